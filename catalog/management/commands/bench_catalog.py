"""``manage.py bench_catalog``: catalog processing and query speed against PRODUCT §10, in a database of its
own (created and dropped on the configured server), through the same claim → read → validate → write path as
the background loop. ``--workers N`` runs that loop in N processes at once, each claiming batches of due
locations with ``FOR UPDATE SKIP LOCKED`` as N worker processes of a deployment do; the default, one, is what
``make run`` starts."""

from __future__ import annotations

import multiprocessing
import queue
import statistics
import tempfile
import time
import traceback
from pathlib import Path

import git
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone
from psycopg import sql

KINDS = ("Component", "Component", "Component", "API", "Resource", "System")
TARGETS_PER_LOCATION_FILE = 50
QUERY_SAMPLES = 60
STATIC_BACKEND = "django.contrib.staticfiles.storage.StaticFilesStorage"


def _entity_yaml(index: int, kind: str) -> str:
    owner = f"group:team-{index % 40}"
    spec = {
        "Component": f"  type: service\n  lifecycle: production\n  owner: {owner}\n  system: sys-{index % 500}\n",
        "API": f"  type: openapi\n  lifecycle: production\n  owner: {owner}\n  definition: openapi 3.0\n",
        "Resource": f"  type: database\n  owner: {owner}\n",
        "System": f"  owner: {owner}\n",
    }[kind]
    return (
        "apiVersion: backstage.io/v1alpha1\n"
        f"kind: {kind}\n"
        "metadata:\n"
        f"  name: {kind.lower()}-{index}\n"
        f"  title: {kind} number {index}\n"
        f"  description: Benchmark entity {index} of kind {kind}, owned by team {index % 40}\n"
        f"  tags: [bench, shard-{index % 10}]\n"
        "spec:\n" + spec
    )


def _git(work: Path, *args: str) -> None:
    git.Repo(work).git.execute(["git", *args])


def _drain(busy=None):
    """The loop's tick (claim a batch, process it, until none is due) until no location is due. Among several
    processes (``busy`` counts those inside a tick) a process that found nothing due stops only when no other is
    inside a tick: one that is may still add child locations, which become due at once."""
    from catalog.processing import ProcessCounts
    from catalog.tasks import refresh_due

    total = ProcessCounts()
    while True:
        if busy is not None:
            with busy.get_lock():
                busy.value += 1
        try:
            run = refresh_due(time_budget=3600)
        finally:
            if busy is not None:
                with busy.get_lock():
                    busy.value -= 1
                    others_busy = busy.value > 0
        total += run
        if not run.locations:
            if busy is None or not others_busy:
                return total
            time.sleep(0.02)


def _drain_worker(busy, results) -> None:
    try:
        results.put(("counts", _drain(busy)))
    except BaseException:
        results.put(("error", traceback.format_exc()))
    finally:
        connections.close_all()


def _drain_in_processes(workers: int):
    """``_drain`` in ``workers`` forked processes (each with its own database connection), their counts summed."""
    from catalog.processing import ProcessCounts

    context = multiprocessing.get_context("fork")
    busy, results = context.Value("i", 0), context.Queue()
    connections.close_all()  # a connection is never shared with a child
    processes = [context.Process(target=_drain_worker, args=(busy, results), daemon=True) for _ in range(workers)]
    for process in processes:
        process.start()
    total, pending = ProcessCounts(), workers
    try:
        while pending:
            try:
                kind, value = results.get(timeout=1)
            except queue.Empty:  # the workers are busy, unless one died without a word
                if any(process.exitcode not in (None, 0) for process in processes):
                    raise CommandError("a worker process of the benchmark died") from None
                continue
            if kind == "error":
                raise CommandError(f"a worker process of the benchmark failed:\n{value}")
            total += value
            pending -= 1
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
    return total


class Command(BaseCommand):
    help = "Measure catalog ingest, re-check, change and query speed at N entities (default 20000)."

    def add_arguments(self, parser):
        parser.add_argument("--entities", type=int, default=20_000)
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="processes running the background loop at once, as that many worker processes would (default 1:"
            " make run starts one)",
        )

    def handle(self, *args, entities: int, workers: int, **options):
        if entities < 100:
            self.stderr.write("--entities: at least 100")
            raise SystemExit(2)
        if not 1 <= workers <= 16:
            self.stderr.write("--workers: between 1 and 16")
            raise SystemExit(2)
        self.workers = workers
        with tempfile.TemporaryDirectory(prefix="meshforge-bench-") as tmp:
            root = Path(tmp)
            creation = connection.creation
            old_name = connection.settings_dict["NAME"]
            self.stdout.write(f"Creating a benchmark database next to {old_name!r}…")
            creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
            try:
                with override_settings(
                    CATALOG_MIRROR_DIR=root / "mirrors",
                    CATALOG_REQUEST_BUDGET_SECONDS=0,
                    CATALOG_BATCH_SIZE=500,
                    # pages render without collectstatic's manifest
                    STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": STATIC_BACKEND}},
                    ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
                ):
                    self._run(root, entities)
            finally:
                creation.destroy_test_db(old_name, verbosity=0)

    def _run(self, root: Path, count: int) -> None:
        from catalog.models import Entity, Location
        from catalog.processing import ProcessCounts
        from catalog.services import location_register
        from core.services import OPERATOR

        work, bare = root / "work", root / "bench.git"
        started = time.perf_counter()
        files = self._build_tree(work, count)
        git.Repo.clone_from(work, bare, bare=True)
        self.stdout.write(f"Built a Git tree of {count} entities in {time.perf_counter() - started:.1f} s")
        processes = "1 process" if self.workers == 1 else f"{self.workers} processes at once"
        self.stdout.write(
            f"The loop runs in {processes}, each claiming batches of {settings.CATALOG_BATCH_SIZE} due locations"
            " (FOR UPDATE SKIP LOCKED) as a worker process's ticks do; make run starts one worker process"
        )

        def loop() -> tuple[float, ProcessCounts]:
            """Every location due, then the loop's own path until none is (children found on the way too)."""
            Location.objects.update(next_refresh_at=timezone.now())
            begin = time.perf_counter()
            total = _drain() if self.workers == 1 else _drain_in_processes(self.workers)
            return time.perf_counter() - begin, total

        begin = time.perf_counter()
        location_register(type="git", target=f"file://{bare}#main:catalog-info.yaml", actor=OPERATOR, trusted=True)
        _, counts = loop()
        first = time.perf_counter() - begin
        ingested = Entity.objects.exclude(kind="Location").count()
        ingest_rate = ingested / first
        self._row("first ingest", f"{ingest_rate:,.0f} entities/s", ">= 1,000/s", ingest_rate >= 1000)
        self.stdout.write(f"    ({ingested} entities, {counts.added} added, {counts.failed} failed, {first:.1f} s)")

        unchanged, counts = loop()
        unchanged_rate = ingested / unchanged
        self._row("unchanged re-check", f"{unchanged_rate:,.0f} entities/s", ">= 10,000/s", unchanged_rate >= 10000)

        changed = [Path(name) for name in files[::100]]
        for path in changed:
            path.write_text(path.read_text().replace("Benchmark entity", "Changed benchmark entity"))
        _git(work, "commit", "-qam", "Change 1%")
        _git(work, "push", "-q", str(bare), "HEAD:main")
        elapsed, counts = loop()
        self._row(
            "refresh after 1% changed",
            f"{elapsed:.2f} s ({counts.updated} updated)",
            "",
            counts.updated == len(changed),
        )

        baseline = self._copy_baseline(ingested)
        self.stdout.write(
            f"  baseline: COPY of the same entity rows {baseline:,.0f} rows/s; ingest is {ingest_rate / baseline:.1%}"
            " of it"
        )
        self._queries()

    def _build_tree(self, work: Path, count: int) -> list[str]:
        """The tree, committed; the paths of its entity files (text: no objects for the collector to walk on
        every full collection of the processes under measurement, which a worker would not hold)."""
        git.Repo.init(work, mkdir=True, initial_branch="main")
        files = []
        location_files = []
        for start in range(0, count, TARGETS_PER_LOCATION_FILE):
            indexes = range(start, min(start + TARGETS_PER_LOCATION_FILE, count))
            shard = work / "entities" / f"shard-{start // TARGETS_PER_LOCATION_FILE:04d}"
            shard.mkdir(parents=True)
            targets = []
            for index in indexes:
                kind = KINDS[index % len(KINDS)]
                path = shard / f"{kind.lower()}-{index}.yaml"
                path.write_text(_entity_yaml(index, kind))
                files.append(str(path))
                targets.append(f"    - ./{path.name}")
            location = shard / "catalog-info.yaml"
            location.write_text(
                "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n"
                f"  name: {shard.name}\nspec:\n  targets:\n" + "\n".join(targets) + "\n"
            )
            location_files.append(f"    - ./entities/{shard.name}/catalog-info.yaml")
        (work / "catalog-info.yaml").write_text(
            "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: bench\nspec:\n  targets:\n"
            + "\n".join(location_files)
            + "\n"
        )
        _git(work, "add", "-A")
        _git(work, "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-qm", "Bench tree")
        return files

    def _copy_baseline(self, count: int) -> float:
        """Rows per second that COPY writes into a table shaped like the entity table: the floor of any ingest."""
        from catalog.models import Entity

        rows = [
            (f"component:default/copy-{i}", "Component", "default", f"copy-{i}", '{"kind": "Component"}', "h" * 64)
            for i in range(count)
        ]
        with connection.cursor() as cursor:
            table = sql.Identifier(Entity._meta.db_table)
            cursor.execute(sql.SQL("CREATE TEMP TABLE bench_copy AS SELECT * FROM {} WITH NO DATA").format(table))
            begin = time.perf_counter()
            with cursor.copy("COPY bench_copy (ref, kind, namespace, name, document, result_hash) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            elapsed = time.perf_counter() - begin
            cursor.execute("DROP TABLE bench_copy")
        return count / elapsed

    def _queries(self) -> None:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.create_user("bench", is_staff=True)
        client = Client()
        client.force_login(user)
        cases = {
            "by-query kind": "/api/catalog/entities/by-query?filter=kind=component&limit=20",
            "by-query owner": "/api/catalog/entities/by-query?filter=spec.owner=group:team-7&limit=20",
            # the fields Backstage's catalog page searches (without fields, Backstage looks in metadata.uid)
            "by-query full text": "/api/catalog/entities/by-query?fullTextFilterTerm=number%2012"
            "&fullTextFilterFields=metadata.name,metadata.title,metadata.description&limit=20",
            "entity page": "/catalog/entity/component/default/component-6/",
        }
        for name, url in cases.items():
            timings = []
            status = None
            for _ in range(QUERY_SAMPLES):
                begin = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - begin) * 1000)
                status = response.status_code
            timings.sort()
            p50 = statistics.median(timings)
            p95 = timings[int(len(timings) * 0.95) - 1]
            self._row(name, f"p50 {p50:.1f} ms, p95 {p95:.1f} ms (HTTP {status})", "p95 < 50 ms", p95 < 50)

    def _row(self, what: str, figure: str, target: str, ok: bool) -> None:
        mark = "ok" if ok else "MISSED"
        self.stdout.write(f"  {what:<26} {figure:<44} target {target:<14} {mark if target else ''}")
