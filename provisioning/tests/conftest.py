"""Fixtures of provisioning's page, API and admin tests: a product of finance with an output port made by the
Builder's fast builders, a release of it, and an adapter for its port in development (rows; no worker runs here:
the services enqueue their Celery tasks on commit, which never comes inside a test's transaction)."""

from __future__ import annotations

import pytest

from dataproducts.tests import conftest as builder
from provisioning.testing.factories import TechAdapterFactory, product_release_make

# the Builder's fixtures this package uses (pytest finds fixtures by the names a conftest module holds)
catalog_files = builder.catalog_files
file_domains = builder.file_domains
build_dp = builder.build_dp
port_values = builder.port_values


@pytest.fixture
def cashflow(build_dp, alice):
    """finance.cashflow.0 (alice's team) with the output port daily-balances."""
    return build_dp(alice, components=[{"kind": "outputport", **port_values()}])


@pytest.fixture
def release(cashflow):
    return product_release_make(cashflow, "0.1.0")


@pytest.fixture
def adapter(cashflow):
    port = cashflow.components.get()
    return TechAdapterFactory(infrastructure_template_id=port.infrastructure_template_id, environment="development")
