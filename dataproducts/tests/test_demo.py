"""``seed_demo`` creates its data products through the Builder's service (issue 5 item 9): each has a
reservation, a repository whose commits are by its owner, and a valid descriptor."""

from __future__ import annotations

import io
import json
import re

import git
import pytest
from django.core.management import call_command
from django.db import transaction
from django.test.utils import override_settings
from jsonschema import Draft202012Validator

from core.yaml import dump, load
from dataproducts import selectors
from dataproducts.descriptor.adapter import ADAPTER_SCHEMA_PATH, descriptor_adapter_problems
from dataproducts.models import DataProduct, DataProductReservation


@pytest.fixture(scope="module")
def demo_data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker, demo_data_dir):
    """``seed_demo`` once for the module, in a transaction rolled back at the end (as ``setUpTestData``): each test
    runs in a savepoint inside it. Yields what the command printed."""
    out = io.StringIO()
    with (
        django_db_blocker.unblock(),
        override_settings(MESHFORGE_DATA_DIR=demo_data_dir, MESHFORGE_GIT_ROOT=demo_data_dir / "git"),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=out, stderr=io.StringIO())
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seeded_once, db, settings, demo_data_dir):
    settings.MESHFORGE_DATA_DIR = demo_data_dir
    settings.MESHFORGE_GIT_ROOT = demo_data_dir / "git"


def test_seed_demo_says_what_each_app_seeded_personas_first_then_catalog_then_builder(
    seeded_once, seeded, demo_data_dir, settings
):
    """The apps' demo hooks run in their declared order and each says what it did; the logins come last."""
    git_root = demo_data_dir / "git" / "platform"
    # deployment numbers come from a sequence that other tests advance
    assert [re.sub(r"#[0-9]+", "#N", line) for line in seeded_once.splitlines()] == [
        f"Demo personas ready; passwords are kept in {demo_data_dir / 'demo-credentials.json'}",
        f"Demo catalog registered from file://{git_root / 'demo-catalog.git'}#main",
        f"Built-in templates registered from file://{git_root / 'templates.git'}#main",
        "Demo data products created through the Builder: 3 new",
        "Starter governance policies loaded: 5 new (4 enabled, 1 grace)",
        f"Built-in tech adapters registered at {settings.MESHFORGE_INTERNAL_URL}/tech-adapters/: 6 new",
        "Demo deployment #N enqueued: finance.payments.0 0.0.0 to development",
        "Demo deployment #N enqueued: finance.invoices.0 0.0.0 to development",
        "Demo deployment #N enqueued: marketing.campaigns.0 0.0.0 to development",
        "  platform  ********           platform team (staff)",
        "  alice     ********           data product owner, team finance",
        "  bob       ********           data product owner, team marketing",
        "  carol     ********           consumer, no team",
    ]


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


def test_every_demo_descriptor_and_component_payload_satisfies_the_tech_adapters_models(seeded, settings):
    """Issue 11's acceptance: each demo product in each environment, as a DATAPRODUCT_DESCRIPTOR and as one
    COMPONENT_DESCRIPTOR per component, passes the JSON Schema of the Witboost adapters' models and the strict
    check; a payload travels as YAML text (Tech Adapter API 2.2), so it is checked after a round trip."""
    schema = json.loads(ADAPTER_SCHEMA_PATH.read_text())
    product_schema = Draft202012Validator(schema)
    payload_schema = Draft202012Validator({**schema, "$ref": "#/$defs/componentDescriptor"})
    failures, payloads = [], 0
    for data_product in DataProduct.objects.order_by("name"):
        for environment in settings.MESHFORGE_ENVIRONMENTS:
            descriptor = selectors.dataproduct_descriptor(data_product=data_product, environment=environment).descriptor
            assert descriptor["components"], data_product.name
            failures += [(data_product.name, environment, e.message) for e in product_schema.iter_errors(descriptor)]
            failures += [(data_product.name, environment, p) for p in descriptor_adapter_problems(descriptor)]
            for component in descriptor["components"]:
                payload = load(dump({"dataProduct": descriptor, "componentIdToProvision": component["id"]}))
                payloads += 1
                failures += [(component["id"], environment, e.message) for e in payload_schema.iter_errors(payload)]
                failures += [(component["id"], environment, p) for p in descriptor_adapter_problems(payload)]
    assert failures == []
    assert payloads == 6 * len(settings.MESHFORGE_ENVIRONMENTS)


def test_the_demo_descriptors_carry_what_the_adapters_read(seeded):
    """Tags as tag labels from the System, the owner and development group in one form, and the kind-specific
    fields the adapters require, on the demo product with every kind of component."""
    descriptor = selectors.dataproduct_descriptor(
        data_product=selectors.dataproduct_get(name="finance.payments.0"), environment="development"
    ).descriptor
    assert descriptor["tags"] == [
        {"tagFQN": tag, "source": "Classification", "labelType": "Manual", "state": "Confirmed"}
        for tag in ("payments", "pci")
    ]
    assert (descriptor["ownerGroup"], descriptor["devGroup"]) == ("finance", "finance")
    by_kind = {component["kind"]: component for component in descriptor["components"]}
    assert by_kind["outputport"]["semanticLinking"] == []
    assert by_kind["workload"]["connectionType"] == "DataPipeline"
    assert all(component["useCaseTemplateId"].startswith("urn:dmb:utm:") for component in by_kind.values())
    amount = by_kind["outputport"]["dataContract"]["schema"][2]
    assert (amount["dataType"], amount["precision"], amount["scale"]) == ("DECIMAL", 12, 2)
