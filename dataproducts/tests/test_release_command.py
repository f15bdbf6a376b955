"""``manage.py release``: a draft, then a promotion, as a user; every refusal exits non-zero naming the problem."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dataproducts.models import DataProductIdentity, Release
from dataproducts.tests.conftest import dataproduct_create_shared, port_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_git")]


@pytest.fixture(autouse=True)
def templates_location(templates_location_shared):
    return templates_location_shared


@pytest.fixture(scope="module")
def product(shared_git):
    return dataproduct_create_shared(shared_git, components=[port_values()])


def _release(*args: str) -> str:
    out = StringIO()
    call_command("release", *args, stdout=out)
    return out.getvalue()


def test_the_command_drafts_then_promotes_with_a_version(product, alice):
    assert "Released finance.cashflow.0 0.0-SNAPSHOT-1 (draft)" in _release(product, "--draft", "--user", "alice")

    said = _release(product, "--promote", "--version", "0.0.0", "--notes", "First", "--user", "alice")

    assert "Released finance.cashflow.0 0.0.0 (stable)" in said and "tagged v0.0.0" in said
    stable = Release.objects.get(kind="stable")
    assert stable.notes == "First" and stable.product == DataProductIdentity.objects.get(entity_name=product)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--promote", "--version", "1.0.0", "--user", "alice"], "version: 1.0.0 changes the major from 0"),
        (["--promote", "--user", "alice"], "draft: there is no draft release to promote"),
        (["--draft", "--user", "bob"], "only members of"),
        (["--draft", "--user", "nobody"], "--user: no active user 'nobody'"),
        (["--draft", "--version", "0.0.0", "--user", "alice"], "--version and --from go with --promote"),
    ],
)
def test_the_command_refuses_with_the_reason(product, alice, bob, args, message):
    if args[0] == "--promote" and "--version" in args:
        _release(product, "--draft", "--user", "alice")
    with pytest.raises(CommandError, match=re.escape(message)):
        _release(product, *args)
    assert not Release.objects.filter(kind="stable").exists()


def test_the_command_names_an_unknown_product(alice):
    with pytest.raises(CommandError, match=r"no data product 'finance\.nothing\.0'"):
        _release("finance.nothing.0", "--draft", "--user", "alice")
