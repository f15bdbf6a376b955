"""``manage.py bench_governance`` at a small size: it builds the products, judges them on the test bench with the
real JSON Schema and Rego engines, times the gate with no policy, each policy and both, and prints every figure
against its target; then it drops the database it made. No timing is asserted (the machine decides those)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection


def _databases() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database")
        return {name for (name,) in cursor.fetchall()}


def test_bench_governance_judges_a_small_mesh_and_prints_the_targets(django_db_blocker):
    """The benchmark creates and drops a database of its own, so it runs outside pytest-django's test
    transaction (no db fixture) with database access unblocked."""
    out = io.StringIO()
    with django_db_blocker.unblock():
        before = _databases()
        call_command("bench_governance", "--products", "20", "--rounds", "1", stdout=out, stderr=io.StringIO())
        after = _databases()

    lines = out.getvalue().splitlines()
    assert any(line.startswith("Built 20 data products (one output port each)") for line in lines)
    for engine, target in (("jsonschema", "< 1 s"), ("rego", "< 5 s")):
        bench = next(line for line in lines if f"test bench, {engine}" in line)
        assert "for 20 DPs" in bench and f"target {target} for 1,000 DPs" in bench
        assert "not judged: the target is for 1,000 DPs" in bench  # 20 products say nothing about 1,000
        # every other product's description is too short for both policies; the engines judged, none failed to
        detail = lines[lines.index(bench) + 1]
        assert re.search(
            r"\(10 pass, 10 fail, 0 error; of the time: descriptors assembled [\d.]+ s, the engine ", detail
        )
    assert any(line.strip().startswith("gate, no policy enabled") and line.endswith(" ms") for line in lines)
    gate = [line for line in lines if line.strip().startswith("gate + ")]
    assert [re.split(r"\s{2,}", line.strip())[0] for line in gate] == [
        "gate + jsonschema policy",
        "gate + rego policy",
        "gate + 2 policies",
    ]
    assert all("target < 50 ms per policy" in line and line.endswith(("PASS", "MISS")) for line in gate)
    assert after == before  # the database it made is gone


def test_bench_governance_refuses_sizes_it_cannot_measure():
    with pytest.raises(SystemExit) as exit_:
        call_command("bench_governance", "--products", "0", stdout=io.StringIO(), stderr=io.StringIO())
    assert exit_.value.code == 2
