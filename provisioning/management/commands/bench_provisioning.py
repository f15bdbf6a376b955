"""``manage.py bench_provisioning``: the coordinator against PRODUCT §10 — its overhead per component against an adapter
that answers at once (≤ 20 ms), and a data product of 20 independent components against an adapter that takes 1 s,
answered synchronously and asynchronously (202 + polling), finishing in < 3 s. The adapter is the stand-alone
external adapter process (``provisioning.testing.external_adapter``, threaded, so it serves the 20 calls at once);
the runs go through the coordinator of a real deployment (``provisioning.coordinator.Coordinator``), in a database of
its own created and dropped on the configured server."""

from __future__ import annotations

import statistics
import time

from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

TARGET_OVERHEAD_MS = 20.0
TARGET_PARALLEL_SECONDS = 3.0
TEMPLATE = "urn:dmb:itm:bench:1"


class Command(BaseCommand):
    help = (
        "Measure the provisioning coordinator: overhead per component and 20 independent components on a 1 s adapter."
    )

    def add_arguments(self, parser):
        parser.add_argument("--components", type=int, default=50, help="components of the overhead run (default 50)")
        parser.add_argument("--rounds", type=int, default=3, help="times each figure is measured (default 3)")
        parser.add_argument("--parallel", type=int, default=20, help="independent components (default 20)")
        parser.add_argument("--delay", type=float, default=1.0, help="seconds the slow adapter takes (default 1)")

    def handle(self, *args, components: int, rounds: int, parallel: int, delay: float, **options):
        if components < 1 or rounds < 1 or parallel < 1 or delay <= 0:
            self.stderr.write("--components, --rounds and --parallel: at least 1; --delay: more than 0")
            raise SystemExit(2)
        self.parallel, self.delay = parallel, delay
        from provisioning.testing import ExternalAdapter

        creation = connection.creation
        old_name = connection.settings_dict["NAME"]
        self.stdout.write(f"Creating a benchmark database next to {old_name!r}…")
        creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        try:
            with ExternalAdapter() as adapter:
                self.stdout.write(f"Stand-alone adapter at {adapter.url}; each figure is the median of {rounds} rounds")
                self._run(adapter.url, components, rounds)
        finally:
            creation.destroy_test_db(old_name, verbosity=0)

    def _run(self, url: str, count: int, rounds: int) -> None:
        from provisioning.models import TechAdapter

        adapter = TechAdapter.objects.create(
            infrastructure_template_id=TEMPLATE,
            environment=_first_environment(),
            url=url,
            poll_interval=0.05,
            request_timeout=10,
            operation_timeout=60,
        )
        chain = [{"name": f"c{index}", "depends_on": [f"c{index - 1}"] if index else []} for index in range(count)]
        deployed = statistics.median(self._deploy(chain, major) for major in range(rounds))
        baseline = statistics.median(self._baseline(adapter, chain) for _ in range(rounds))
        overhead_ms = (deployed - baseline) / count * 1000
        self._line(
            f"overhead per component ({count} in a dependsOn chain, adapter answering at once)",
            f"{overhead_ms:.1f} ms",
            f"≤ {TARGET_OVERHEAD_MS:g} ms",
            overhead_ms <= TARGET_OVERHEAD_MS,
            f"run {deployed:.2f} s, the same calls sent one by one {baseline:.2f} s",
        )
        # the target is for 20 components on a 1 s adapter: scaled to the run's own delay
        target = TARGET_PARALLEL_SECONDS * self.delay
        for mode in ("sync", "async"):
            flags = {"mode": mode, "delay": self.delay}
            parallel = [{"name": f"p{index}", "specific": {"adapter": flags}} for index in range(self.parallel)]
            seconds = statistics.median(
                self._deploy(parallel, 100 + rounds * (mode == "async") + r) for r in range(rounds)
            )
            self._line(
                f"{self.parallel} independent components, {self.delay:g} s adapter, {mode}",
                f"{seconds:.2f} s",
                f"< {target:g} s for 20 on a {self.delay:g} s adapter",
                seconds < target,
                f"one at a time would take {self.parallel * self.delay:g} s",
            )

    def _deploy(self, components: list[dict], major: int) -> float:
        """One deployment of a product of ``components`` run by the coordinator from start to end (its checks
        are not timed: the coordinator is)."""
        from provisioning import coordinator
        from provisioning.choices import DeploymentStatus
        from provisioning.models import Deployment
        from provisioning.planning import plan_build
        from provisioning.selectors import adapters_for
        from provisioning.services import deployment_tasks_create
        from provisioning.testing.builders import descriptor_make, release_make

        descriptor = descriptor_make(
            name=f"bench{major}", major=major, components=[{**c, "template": TEMPLATE} for c in components]
        )
        release = release_make(descriptor, version=f"{major}.1.0")
        environment = _first_environment()
        deployment = Deployment.objects.create(
            product=release.product,
            release=release,
            version=release.version,
            environment=environment,
            operation="deploy",
            status=DeploymentStatus.RUNNING,
            descriptor=release.descriptors[environment],
            started_at=timezone.now(),
        )
        plan = plan_build(
            descriptor=deployment.descriptor,
            environment=environment,
            operation="deploy",
            adapters=adapters_for(templates=[TEMPLATE], environment=environment),
        )
        deployment_tasks_create(deployment=deployment, plan=plan)
        begin = time.perf_counter()
        finished = coordinator.deployment_run(deployment_id=deployment.pk)
        seconds = time.perf_counter() - begin
        if finished is None or finished.status != DeploymentStatus.SUCCEEDED:
            raise SystemExit(f"the benchmark deployment failed: {finished.error if finished else 'not run'}")
        return seconds

    def _baseline(self, adapter, components: list[dict]) -> float:
        """The same provision calls sent one after the other with one client: what the adapter itself takes."""
        from provisioning.client import provisioning_request
        from provisioning.services import adapter_client
        from provisioning.testing.builders import descriptor_make

        descriptor = descriptor_make(name="baseline", components=[{**c, "template": TEMPLATE} for c in components])
        requests = [provisioning_request(descriptor=descriptor, component_id=c["id"]) for c in descriptor["components"]]
        with adapter_client(adapter) as client:
            begin = time.perf_counter()
            for request in requests:
                client.provision(request)
            return time.perf_counter() - begin

    def _line(self, what: str, figure: str, target: str, ok: bool, note: str) -> None:
        verdict = self.style.SUCCESS("meets the target") if ok else self.style.ERROR("MISSES the target")
        self.stdout.write(f"{what}: {figure} (target {target}) — {verdict}; {note}")


def _first_environment() -> str:
    from django.conf import settings

    return settings.MESHFORGE_ENVIRONMENTS[0]
