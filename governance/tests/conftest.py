"""Fixtures for governance: the test engines registered, policies saved through the service, a product identity
and its descriptors, and the Builder's fast builders (``build_dp``) for what needs real data products."""

from __future__ import annotations

import copy

import pytest

from dataproducts.models import DataProductIdentity
from dataproducts.selectors import dataproduct_descriptor
from dataproducts.tests import conftest as builder
from governance.choices import Lifecycle
from governance.models import Policy
from governance.services import policy_save
from governance.tests import fake_engines

# the Builder's fixtures this package uses (pytest finds fixtures by the names a conftest module holds)
builder_dirs = builder.builder_dirs
catalog_files = builder.catalog_files
file_domains = builder.file_domains
build_dp = builder.build_dp
build_component = builder.build_component
port_values = builder.port_values


@pytest.fixture(autouse=True)
def test_engines(request, settings):
    """The scripted engine beside the real ones, except for the engines' own tests (which read the defaults)."""
    if request.module.__name__.rsplit(".", 1)[-1].startswith("test_engine_"):
        return
    settings.GOVERNANCE_ENGINES = fake_engines.ENGINES
    fake_engines.ScriptedEngine.calls.clear()


@pytest.fixture
def make_policy(db, platform_user):
    def make(name: str = "always", *, engine: str = "scripted", body: str = "pass", **fields) -> Policy:
        fields.setdefault("lifecycle", Lifecycle.ENABLED)
        return policy_save(policy=Policy(name=name, engine=engine, body=body, **fields), actor=platform_user)

    return make


@pytest.fixture
def ledger(build_dp, alice):
    """finance.cashflow.0 with an output port, its identity and its descriptor per environment."""
    data_product = build_dp(alice, components=[{"kind": "outputport", **port_values()}])
    return data_product


@pytest.fixture
def identity(ledger):
    return DataProductIdentity.objects.get(dp_id=ledger.dp_id)


@pytest.fixture
def descriptors(ledger, settings):
    return {
        environment: dataproduct_descriptor(data_product=ledger, environment=environment).descriptor
        for environment in settings.MESHFORGE_ENVIRONMENTS
    }


def copied(descriptors: dict) -> dict:
    return copy.deepcopy(descriptors)
