"""``manage.py bench_provisioning`` at a small size: it starts the stand-alone adapter, runs the coordinator on a
chain and on independent components (sync and async), prints every figure against its target, and drops the database
it made. No timing is asserted (the machine decides those)."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.db import connection


def _databases() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database")
        return {name for (name,) in cursor.fetchall()}


def test_bench_provisioning_runs_the_coordinator_and_prints_the_targets(django_db_blocker):
    out = io.StringIO()
    with django_db_blocker.unblock():
        before = _databases()
        call_command(
            "bench_provisioning",
            *("--components", "5", "--rounds", "1", "--parallel", "4", "--delay", "0.3"),
            stdout=out,
            stderr=io.StringIO(),
        )
        after = _databases()
    lines = out.getvalue().splitlines()
    overhead = next(line for line in lines if line.startswith("overhead per component (5 in a dependsOn chain"))
    assert "(target ≤ 20 ms)" in overhead
    for mode in ("sync", "async"):
        line = next(line for line in lines if line.startswith(f"4 independent components, 0.3 s adapter, {mode}:"))
        assert "target < 0.9 s for 20 on a 0.3 s adapter" in line
    assert after == before  # its own database is gone
