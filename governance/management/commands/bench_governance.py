"""``manage.py bench_governance``: how long the test bench takes to judge every data product with one JSON Schema
policy and with one Rego policy, and how much latency each policy adds to the gate of a release, against PRODUCT
§10 / issue 12 (test bench < 1 s with JSON Schema and < 5 s with Rego for 1,000 data products; the gate < 50 ms
per policy). Runs in a database of its own (created and dropped on the configured server) with products made by
the fast builders of ``dataproducts.testing`` (catalog processing, no Git), through the same code as the admin's
"Test on all data products" (``governance.services.bench_run``) and as every path that validates a release
(``Release.full_clean()``)."""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import override_settings

JSONSCHEMA_BODY = """\
$schema: https://json-schema.org/draft/2020-12/schema
type: object
required: [id, name, dataProductOwner, description]
properties:
  dataProductOwner: {type: string, pattern: "^user:"}
  description: {type: string, minLength: 40}
  components:
    type: array
    items: {type: object, required: [id, kind]}
"""
REGO_BODY = """\
package main

deny contains msg if {
  count(input.description) < 40
  msg := "description: at least 40 characters"
}

warn contains msg if {
  not input.dataProductOwner
  msg := "dataProductOwner: name the owner"
}
"""
SHORT = "Benchmark data product"
LONG = "Benchmark data product, described at the length the policies ask for"
TARGET_BENCH_SECONDS = {"jsonschema": 1.0, "rego": 5.0}
TARGET_GATE_MS_PER_POLICY = 50.0
PORT = {
    "kind": "outputport",
    "name": "daily-balances",
    "title": "Daily balances",
    "description": "Balances per account per day",
    "columns": [
        {"name": "day", "dataType": "DATE", "description": "The day", "constraint": "PRIMARY_KEY"},
        {"name": "balance", "dataType": "DECIMAL", "description": "End of day balance"},
    ],
}


class Command(BaseCommand):
    help = "Measure the governance test bench on N data products and the gate's added latency per policy."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=1000, help="data products to judge (default 1000)")
        parser.add_argument("--rounds", type=int, default=3, help="times each figure is measured (default 3)")

    def handle(self, *args, products: int, rounds: int, **options):
        if products < 1 or rounds < 1:
            self.stderr.write("--products and --rounds: at least 1")
            raise SystemExit(2)
        with tempfile.TemporaryDirectory(prefix="meshforge-bench-governance-") as tmp:
            root = Path(tmp).resolve()
            creation = connection.creation
            old_name = connection.settings_dict["NAME"]
            self.stdout.write(f"Creating a benchmark database next to {old_name!r}…")
            creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
            try:
                with override_settings(
                    MESHFORGE_GIT_ROOT=root / "git",
                    CATALOG_MIRROR_DIR=root / "mirrors",
                    CATALOG_FILE_ROOTS=[*settings.CATALOG_FILE_ROOTS, root / "files"],
                ):
                    self._run(root / "files", products, rounds)
            finally:
                creation.destroy_test_db(old_name, verbosity=0)

    def _run(self, files: Path, count: int, rounds: int) -> None:
        from django.contrib.auth import get_user_model

        from dataproducts import testing
        from dataproducts.models import DataProduct
        from governance.choices import Lifecycle
        from governance.models import Policy
        from governance.services import policy_save

        files.mkdir(parents=True)
        actor = get_user_model().objects.create_user("bench", is_staff=True)
        begin = time.perf_counter()
        testing.domains_build(root=files)
        for index in range(count):
            # every other product fails both policies (a description under 40 characters)
            testing.dataproduct_build(
                root=files,
                name=f"product-{index}",
                title=f"Product {index}",
                description=LONG if index % 2 else SHORT,
                maturity="Tactical",
                components=[PORT],
            )
        built = DataProduct.objects.count()
        self.stdout.write(
            f"Built {built} data products (one output port each) in {time.perf_counter() - begin:.1f} s;"
            f" each figure is the median of {rounds} rounds"
        )
        policies = {
            engine: policy_save(
                policy=Policy(name=f"bench-{engine}", engine=engine, body=body, lifecycle=Lifecycle.DRAFT),
                actor=actor,
            )
            for engine, body in (("jsonschema", JSONSCHEMA_BODY), ("rego", REGO_BODY))
        }
        for engine, policy in policies.items():
            self._bench(engine, policy, built, rounds)
        self._gate(policies, actor, rounds)

    def _bench(self, engine: str, policy, count: int, rounds: int) -> None:
        """What the admin's bench runs (every product's working copy, its descriptor assembled, then one engine
        call for them all), and the engine's share of it."""
        from dataproducts.selectors import dataproduct_descriptor
        from governance.gate import policy_run_many
        from governance.selectors import policy_resources
        from governance.services import bench_products, bench_run

        rows = []

        def run() -> None:
            rows[:] = bench_run(policy=policy)

        seconds = _median(run, rounds)
        outcomes = Counter(row.outcome for row in rows)
        target = TARGET_BENCH_SECONDS[engine]
        self._row(
            f"test bench, {engine}",
            f"{seconds:.2f} s for {len(rows)} DPs",
            f"< {target:g} s for 1,000 DPs",
            seconds < target,
            judged=count >= 1000,
        )
        environment = (policy.environments or settings.MESHFORGE_ENVIRONMENTS)[0]
        items = []

        def assemble() -> None:
            products = bench_products()  # as bench_run reads them
            items[:] = [
                item
                for product in products
                for item in policy_resources(
                    selector=policy.selector,
                    descriptor=dataproduct_descriptor(data_product=product, environment=environment).descriptor,
                    previous=None,
                    environment=environment,
                )
            ]

        assembling = _median(assemble, rounds)
        judging = _median(lambda: policy_run_many(policy, items, for_gate=False), rounds)
        found = ", ".join(f"{outcomes[name]} {name}" for name in ("pass", "fail", "error"))
        self.stdout.write(
            f"    ({found}; of the time: descriptors assembled {assembling:.2f} s, the engine {judging:.2f} s)"
        )

    def _gate(self, policies: dict, actor, rounds: int) -> None:
        """``full_clean()`` of a draft release of one product (the gate: the applicable policies against the first
        environment's descriptor, and the adapter-ready check), with no policy enabled, then each policy, then
        both. A new instance each time: the gate's verdict is cached on the instance."""
        from dataproducts.choices import ReleaseKind
        from dataproducts.models import DataProduct, DataProductIdentity, Release
        from dataproducts.selectors import dataproduct_descriptor
        from governance.choices import Lifecycle
        from governance.services import policy_lifecycle_set

        product = DataProduct.objects.order_by("name").first()
        identity = DataProductIdentity.objects.get(dp_id=product.dp_id)
        descriptors = {
            environment: dataproduct_descriptor(data_product=product, environment=environment).descriptor
            for environment in settings.MESHFORGE_ENVIRONMENTS
        }

        def clean() -> None:
            release = Release(
                product=identity,
                version="0.1-SNAPSHOT-1",
                kind=ReleaseKind.DRAFT,
                major=0,
                minor=1,
                snapshot=1,
                descriptors=descriptors,
                commit="0" * 40,
                created_by=actor,
                created_by_name=actor.get_username(),
            )
            with contextlib.suppress(ValidationError):  # refused by a policy or the adapter-ready check: judged
                release.full_clean()

        def with_enabled(*engines: str) -> float:
            for engine, policy in policies.items():
                wanted = Lifecycle.ENABLED if engine in engines else Lifecycle.DRAFT
                if policy.lifecycle != wanted:
                    policy_lifecycle_set(policy=policy, lifecycle=wanted, actor=actor)
            clean()  # warm: the engine's first call (imports, a compiled schema) is not the gate's latency
            return _median(clean, rounds) * 1000

        baseline = with_enabled()
        self._row("gate, no policy enabled", f"{baseline:.1f} ms", "", True)
        for engine in policies:
            added = with_enabled(engine) - baseline
            self._row(
                f"gate + {engine} policy",
                f"+{added:.1f} ms",
                f"< {TARGET_GATE_MS_PER_POLICY:g} ms per policy",
                added < TARGET_GATE_MS_PER_POLICY,
            )
        both = (with_enabled(*policies) - baseline) / len(policies)
        self._row(
            f"gate + {len(policies)} policies",
            f"+{both:.1f} ms per policy",
            f"< {TARGET_GATE_MS_PER_POLICY:g} ms per policy",
            both < TARGET_GATE_MS_PER_POLICY,
        )

    def _row(self, what: str, figure: str, target: str, ok: bool, *, judged: bool = True) -> None:
        """One figure; ``judged`` False when the run is too small for the target (it is set for 1,000 products)."""
        mark = ("PASS" if ok else "MISS") if judged else "not judged: the target is for 1,000 DPs"
        target = f"target {target}" if target else ""
        self.stdout.write(f"  {what:<26} {figure:<22} {target:<30} {mark if target else ''}".rstrip())


def _median(run: Callable[[], object], rounds: int) -> float:
    """The median wall-clock time of ``rounds`` calls of ``run``, in seconds."""
    timings = []
    for _ in range(rounds):
        begin = time.perf_counter()
        run()
        timings.append(time.perf_counter() - begin)
    return statistics.median(timings)
