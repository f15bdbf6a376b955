"""``manage.py create_dataproduct``: the same creation as the wizard and the API, from a values file."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dataproducts.models import DataProduct
from dataproducts.tests.conftest import dp_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_catalog")]


@pytest.fixture(autouse=True)
def templates_location(templates_location_shared):
    """The built-in templates registered once for this module (no test here commits or flushes the database),
    for every test of it alike: the tests that only read them get the same entities as those that render them."""
    return templates_location_shared


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("create_dataproduct", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_command_creates_a_data_product_as_the_user(builder, alice, tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text(json.dumps(dp_values()))

    out = _run("--template", "template:dataproduct", "--values", str(values), "--user", "alice")

    assert "Created urn:dmb:dp:finance:cashflow:0" in out
    data_product = DataProduct.objects.get()
    assert data_product.entity.location.registered_by == alice


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--template", "template:dataproduct", "--values", "MISSING", "--user", "alice"], "--values: cannot read"),
        (["--template", "template:nothing", "--values", "VALUES", "--user", "alice"], "--template"),
        (["--template", "template:dataproduct", "--values", "VALUES", "--user", "nobody"], "--user"),
        (["--template", "template:dataproduct", "--values", "BAD", "--user", "alice"], "name:"),
        (["--template", "template:dataproduct", "--values", "VALUES", "--user", "bob"], "your own teams"),
    ],
)
def test_bad_input_exits_non_zero_naming_what_is_wrong(builder, alice, bob, tmp_path, args, message):
    (tmp_path / "values.yaml").write_text(json.dumps(dp_values()))
    (tmp_path / "bad.yaml").write_text(json.dumps(dp_values(name="Not Valid")))
    paths = {"VALUES": str(tmp_path / "values.yaml"), "BAD": str(tmp_path / "bad.yaml"), "MISSING": "/nonexistent"}
    with pytest.raises(CommandError, match=message):
        _run(*[paths.get(arg, arg) for arg in args])
    assert not DataProduct.objects.exists()


def test_a_dry_run_prints_the_files_and_creates_nothing(builder, alice, tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text(
        "name: cashflow\ntitle: Cash flow\ndescription: x\ndomain: domain:finance\nowner: group:finance\n"
        "maturity: Tactical\n"
    )
    out = _run("--template", "template:dataproduct", "--values", str(values), "--user", "alice", "--dry-run")
    assert "--- catalog-info.yaml" in out and "valid (dry run" in out
    assert not DataProduct.objects.exists()
