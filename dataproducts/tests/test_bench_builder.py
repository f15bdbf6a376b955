"""``manage.py bench_builder`` runs the Builder's services end to end at a small size and prints its figures
against PRODUCT §10 (it broke silently once when the output port's column types changed)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


def test_bench_builder_measures_a_small_product_and_prints_the_targets(django_db_blocker):
    """The benchmark creates and drops a database of its own, so it runs outside pytest-django's test
    transaction (no db fixture) with database access unblocked."""
    out = io.StringIO()
    with django_db_blocker.unblock():
        call_command("bench_builder", "--products", "1", "--components", "2", stdout=out, stderr=io.StringIO())

    text = out.getvalue()
    for figure in ("create → DP page", "add component", "edit (commit + refresh)"):
        assert figure in text
    assert text.count("target constant  ok") == 3


def test_bench_builder_refuses_sizes_it_cannot_measure():
    with pytest.raises(SystemExit) as exit_:
        call_command("bench_builder", "--components", "1", stdout=io.StringIO(), stderr=io.StringIO())
    assert exit_.value.code == 2
