"""``manage.py bench_refresh_stall``: how the site answers while people refresh locations whose Git remote stalls
(issue 9, item 1). It runs the real thing on loopback, in a database of its own: a tarpit that accepts Git's
connections and trickles, the web server (gunicorn with Meshforge's config) and a Celery worker; then it fires
concurrent Refreshes of eight locations on the stalled remote while timing unrelated requests. Target: their p95
stays under 500 ms."""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from core.testing.database import subprocess_database_url
from core.testing.git import GitRepo
from core.testing.tarpit import Tarpit

TARGET_P95_MS = 500
PROJECT_ROOT = Path(__file__).resolve().parents[3]
COMPONENT = (
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {{name: stalled-{index}}}\n"
    "spec: {{type: service, lifecycle: production, owner: group:bench}}\n"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Time unrelated requests while N concurrent Refreshes hit a stalled Git remote (target p95 < 500 ms)."

    def add_arguments(self, parser):
        parser.add_argument("--refreshes", type=int, default=8, help="concurrent refreshes of stalled locations")
        parser.add_argument("--seconds", type=float, default=15.0, help="how long to time unrelated requests")

    def handle(self, *args, refreshes: int, seconds: float, **options):
        if not 1 <= refreshes <= 50:
            raise CommandError("--refreshes: expected 1 to 50")
        if not 1 <= seconds <= 600:
            raise CommandError("--seconds: expected 1 to 600")
        old_name = connection.settings_dict["NAME"]
        self.stdout.write(f"Creating a benchmark database next to {old_name!r}…")
        connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        processes: list[subprocess.Popen] = []
        try:
            with tempfile.TemporaryDirectory(prefix="meshforge-bench-") as tmp, Tarpit(mode="trickle") as tarpit:
                token, refs = self._world(Path(tmp), tarpit, refreshes)
                call_command("collectstatic", interactive=False, verbosity=0)  # the web server serves the manifest
                port = _free_port()
                environment = self._environment(port)
                processes += self._start(environment, Path(tmp))
                base = f"http://127.0.0.1:{port}"
                self._wait_ready(base, processes)
                self._measure(base, token, refs, seconds, tarpit)
        finally:
            for process in processes:
                self._stop(process)
            connection.creation.destroy_test_db(old_name, verbosity=0)

    # --- set-up ----------------------------------------------------------------------------------------------

    def _world(self, root: Path, tarpit: Tarpit, count: int) -> tuple[str, list[str]]:
        """``count`` components, each in a location of its own that then points at the stalled remote, and the
        API token of a person without staff rights (who is rate-limited like anyone)."""
        from catalog.models import Entity, Location
        from catalog.readers import validate_target
        from catalog.services import location_register
        from core.services import OPERATOR, api_token_create

        repo = GitRepo(root / "git", "bench")
        files = {f"c{index}/catalog-info.yaml": COMPONENT.format(index=index) for index in range(count)}
        targets = "".join(f"    - ./c{index}/catalog-info.yaml\n" for index in range(count))
        files["catalog-info.yaml"] = (
            "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: bench}\nspec:\n  targets:\n" + targets
        )
        repo.put(files)
        location_register(type="git", target=repo.target(), actor=OPERATOR)
        refs = []
        for index in range(count):
            entity = Entity.objects.get(ref=f"component:default/stalled-{index}")
            stalled = validate_target("git", f"{tarpit.url()}#main:c{index}/catalog-info.yaml")
            Location.objects.filter(pk=entity.location_id).update(target=stalled)
            refs.append(entity.ref)
        user = get_user_model().objects.create_user("bench-consumer", password=None)
        _, key = api_token_create(user=user, name="bench", actor=OPERATOR)
        self.stdout.write(f"  {count} locations on a stalled remote {tarpit.url()} (one repository, one mirror)")
        return key, refs

    def _environment(self, port: int) -> dict[str, str]:
        environment = {
            **os.environ,
            "DATABASE_URL": subprocess_database_url(),
            "MESHFORGE_DATA_DIR": str(settings.MESHFORGE_DATA_DIR),
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.dev"),
            "PORT": str(port),
            "MESHFORGE_BIND": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
        }
        environment.pop("MESHFORGE_TEST_OWNS_DATA_DIR", None)
        return environment

    def _start(self, environment: dict[str, str], root: Path) -> list[subprocess.Popen]:
        commands = {
            "web": [sys.executable, "-m", "gunicorn", "config.wsgi", "--config", "config/gunicorn.py"],
            "worker": [
                *(sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "WARNING"),
                *("--queues", "default,catalog", "--pool", "threads", "--concurrency", "8"),
                *("--without-mingle", "--without-gossip", "--hostname", "bench@%h"),
            ],
        }
        processes = []
        for name, command in commands.items():
            log = open(root / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the process
            processes.append(
                subprocess.Popen(  # noqa: S603 - fixed commands
                    command,
                    cwd=PROJECT_ROOT,
                    env=environment,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        return processes

    def _wait_ready(self, base: str, processes: list[subprocess.Popen]) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in processes):
                raise CommandError("the web server or the worker exited while starting")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise CommandError("the web server did not report healthy within 60 s")

    def _stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)

    # --- measuring -------------------------------------------------------------------------------------------

    def _measure(self, base: str, token: str, refs: list[str], seconds: float, tarpit: Tarpit) -> None:
        from catalog.models import RefreshRequest

        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        refresh_times: list[float] = []
        statuses: list[str] = []

        def refresh(ref: str) -> None:
            request = urllib.request.Request(  # noqa: S310 - loopback
                f"{base}/api/catalog/refresh", data=json.dumps({"entityRef": ref}).encode(), headers=headers
            )
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - loopback
                    statuses.append(json.loads(response.read())["status"])
            except urllib.error.HTTPError as exc:
                statuses.append(f"HTTP {exc.code}")
            refresh_times.append((time.perf_counter() - started) * 1000)

        paths = ["/healthz", "/accounts/login/", "/api/me/", "/api/catalog/entities/by-query?limit=20"]
        samples: dict[str, list[float]] = {path: [] for path in paths}
        failures: list[str] = []
        stop = threading.Event()

        def unrelated(offset: int) -> None:
            index = offset
            while not stop.is_set():
                path = paths[index % len(paths)]
                index += 1
                request = urllib.request.Request(f"{base}{path}", headers=headers)  # noqa: S310 - loopback
                started = time.perf_counter()
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
                        response.read()
                except (urllib.error.URLError, OSError) as exc:
                    failures.append(f"{path}: {exc}")
                samples[path].append((time.perf_counter() - started) * 1000)

        clients = [threading.Thread(target=unrelated, args=(offset,)) for offset in range(2)]
        for client in clients:
            client.start()
        time.sleep(1)  # a baseline second before the refreshes start
        fired_at = time.monotonic()
        firing = [threading.Thread(target=refresh, args=(ref,)) for ref in refs]
        for thread in firing:
            thread.start()
        for thread in firing:
            thread.join(130)
        time.sleep(max(0.0, seconds - 1))
        stop.set()
        for client in clients:
            client.join(35)

        everything = [value for values in samples.values() for value in values]
        p95 = _percentile(everything, 0.95)
        outcome = dict.fromkeys(("queued", "running", "done", "failed"), 0)
        for status in RefreshRequest.objects.values_list("status", flat=True):
            outcome[status] += 1
        self.stdout.write(
            f"  {len(refs)} concurrent refreshes of stalled locations: answered in p95 "
            f"{_percentile(refresh_times, 0.95):.0f} ms, max {max(refresh_times):.0f} ms"
            f" ({', '.join(sorted(set(statuses)))})"
        )
        self.stdout.write(
            f"  the tarpit saw {tarpit.connections} connection(s); refresh requests now: "
            + ", ".join(f"{count} {status}" for status, count in outcome.items())
        )
        for path, values in samples.items():
            self.stdout.write(
                f"  {path:<42} {len(values):>5} requests  p50 {statistics.median(values):>6.1f} ms"
                f"  p95 {_percentile(values, 0.95):>6.1f} ms  max {max(values):>7.1f} ms"
            )
        mark = self.style.SUCCESS("met") if p95 < TARGET_P95_MS and not failures else self.style.ERROR("MISSED")
        self.stdout.write(
            f"  unrelated requests during the stall: p95 {p95:.1f} ms over {len(everything)} requests, "
            f"{len(failures)} failed; target p95 < {TARGET_P95_MS} ms {mark}"
        )
        for failure in failures[:5]:
            self.stdout.write(f"    {failure}")
        self._wait_for_outcomes(fired_at)

    def _wait_for_outcomes(self, fired_at: float) -> None:
        """How the queued refreshes end: the stalled fetch is killed and every one reports it."""
        from catalog.choices import RefreshStatus
        from catalog.models import RefreshRequest

        deadline = time.monotonic() + 2 * settings.CATALOG_GIT_LOW_SPEED_SECONDS + 60
        unfinished = RefreshRequest.objects.filter(status__in=[RefreshStatus.QUEUED, RefreshStatus.RUNNING])
        while unfinished.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        ended = list(RefreshRequest.objects.values_list("status", "errors"))
        failed = [errors for status, errors in ended if status == RefreshStatus.FAILED]
        self.stdout.write(
            f"  {len(failed)} of {len(ended)} refreshes ended as failed {time.monotonic() - fired_at:.0f} s after they"
            f" were asked: {(failed[0] or ['(no message)'])[0] if failed else '-'}"
        )
