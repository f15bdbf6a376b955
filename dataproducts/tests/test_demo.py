"""``seed_demo`` creates its data products through the Builder's service (issue 5 item 9): each has a
reservation, a repository whose commits are by its owner, and a valid descriptor."""

from __future__ import annotations

import io

import git
import pytest
from django.core.management import call_command
from django.db import transaction
from django.test.utils import override_settings

from dataproducts import selectors
from dataproducts.models import DataProduct, DataProductReservation


@pytest.fixture(scope="module")
def demo_data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker, demo_data_dir):
    """``seed_demo`` once for the module, in a transaction rolled back at the end (as ``setUpTestData``): each test
    runs in a savepoint inside it."""
    with (
        django_db_blocker.unblock(),
        override_settings(MESHFORGE_DATA_DIR=demo_data_dir, MESHFORGE_GIT_ROOT=demo_data_dir / "git"),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seeded_once, db, settings, demo_data_dir):
    settings.MESHFORGE_DATA_DIR = demo_data_dir
    settings.MESHFORGE_GIT_ROOT = demo_data_dir / "git"


def test_the_demo_data_products_are_created_through_the_builder(seeded, settings):
    assert sorted(DataProduct.objects.values_list("name", flat=True)) == [
        "finance.invoices.0",
        "finance.payments.0",
        "marketing.campaigns.0",
    ]
    assert set(DataProductReservation.objects.values_list("state", flat=True)) == {"created"}
    owners = {"finance": "alice", "marketing": "bob"}
    for data_product in DataProduct.objects.all():
        repo = git.Repo(settings.MESHFORGE_GIT_ROOT / data_product.domain_name / f"{data_product.slug}.git")
        assert {commit.author.email.split("@")[0] for commit in repo.iter_commits("main")} == {
            owners[data_product.domain_name]
        }


@pytest.mark.parametrize("environment", ["development", "production"])
def test_the_demo_descriptors_are_valid(seeded, environment):
    for data_product in DataProduct.objects.all():
        view = selectors.dataproduct_descriptor(
            data_product=selectors.dataproduct_get(name=data_product.name), environment=environment
        )
        assert view.errors == [], (data_product.name, view.errors)
