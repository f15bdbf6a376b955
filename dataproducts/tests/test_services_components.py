"""Components through the Builder: added into a folder of the DP repository and listed in its Location
targets, linked with dependsOn, removed again; the descriptor of the result validates."""

from __future__ import annotations

import git
import pytest
from django.core.exceptions import PermissionDenied

from catalog.models import Entity
from core.yaml import load_all
from dataproducts import selectors, services
from dataproducts.exceptions import DataProductConflict, ValuesInvalid
from dataproducts.models import Component
from dataproducts.tests.conftest import port_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_git")]


@pytest.fixture(autouse=True)
def templates_location(templates_location_shared):
    """The built-in templates registered once for this module (no test here commits or flushes the database),
    for every test of it alike."""
    return templates_location_shared


@pytest.fixture
def cashflow(shared_cashflow):
    return selectors.dataproduct_get(name=shared_cashflow)


def _repo(settings) -> git.Repo:
    return git.Repo(settings.MESHFORGE_GIT_ROOT / "finance" / "cashflow.git")


def test_an_output_port_goes_into_its_folder_and_the_dp_location_targets(cashflow, add_component, alice, settings):
    component = add_component(cashflow, alice, **port_values())

    assert component.component_id == "urn:dmb:cmp:finance:cashflow:0:daily-balances"
    head = _repo(settings).commit("main")
    assert head.author.name in (alice.get_full_name(), alice.username)
    catalog = load_all((head.tree / "catalog-info.yaml").data_stream.read())
    location = next(doc for doc in catalog if doc["kind"] == "Location")
    assert location["spec"]["targets"] == ["./components/daily-balances/catalog-info.yaml"]
    port = load_all((head.tree / "components/daily-balances/catalog-info.yaml").data_stream.read())[0]
    assert port["spec"]["system"] == "system:finance.cashflow.0"
    assert port["spec"]["mesh"]["infrastructureTemplateId"] == "urn:dmb:itm:postgres:1"
    assert [c["name"] for c in port["spec"]["mesh"]["dataContract"]["schema"]] == ["day", "balance"]
    entity = Entity.objects.get(ref="component:default/finance.cashflow.0.daily-balances")
    assert entity.all_errors == []


def test_a_workload_can_depend_on_the_output_port_and_the_descriptor_is_valid(cashflow, add_component, alice):
    add_component(cashflow, alice, **port_values())
    workload = add_component(
        cashflow,
        alice,
        "template:workload",
        name="loader",
        title="Loader",
        description="Loads balances",
        dependsOn=["urn:dmb:cmp:finance:cashflow:0:daily-balances"],
        sql="SELECT 1",
    )

    assert workload.depends_on == ["urn:dmb:cmp:finance:cashflow:0:daily-balances"]
    data_product = selectors.dataproduct_get(name="finance.cashflow.0")
    assert sorted(c.slug for c in data_product.components.all()) == ["daily-balances", "loader"]
    view = selectors.dataproduct_descriptor(data_product=data_product, environment="development")
    assert view.errors == []
    assert view.descriptor["id"] == "urn:dmb:dp:finance:cashflow:0"
    assert view.descriptor["environment"] == "development"
    assert {c["id"] for c in view.descriptor["components"]} == {
        "urn:dmb:cmp:finance:cashflow:0:daily-balances",
        "urn:dmb:cmp:finance:cashflow:0:loader",
    }


def test_depending_on_a_component_of_another_data_product_is_refused(cashflow, add_component, alice):
    with pytest.raises(ValuesInvalid) as caught:
        add_component(cashflow, alice, **port_values(dependsOn=["urn:dmb:cmp:sales:orders:1:orders-view"]))
    assert any(path.startswith("dependsOn") for path in caught.value.errors)


def test_adding_the_same_component_twice_is_a_conflict(cashflow, add_component, alice):
    add_component(cashflow, alice, **port_values())
    with pytest.raises(DataProductConflict):
        add_component(cashflow, alice, **port_values())


def test_a_member_of_another_team_cannot_add_a_component(cashflow, add_component, bob, settings):
    before = _repo(settings).commit("main").hexsha
    with pytest.raises(PermissionDenied):
        add_component(cashflow, bob, **port_values())
    assert _repo(settings).commit("main").hexsha == before


def test_removing_a_component_commits_its_removal_and_drops_its_target(cashflow, add_component, alice, settings):
    component = add_component(cashflow, alice, **port_values())

    services.component_remove(component=Component.objects.get(pk=component.pk), actor=alice)

    head = _repo(settings).commit("main")
    assert "Remove daily-balances" in head.message
    paths = {blob.path for blob in head.tree.traverse() if blob.type == "blob"}
    assert not any(path.startswith("components/daily-balances") for path in paths)
    catalog = load_all((head.tree / "catalog-info.yaml").data_stream.read())
    assert next(doc for doc in catalog if doc["kind"] == "Location")["spec"]["targets"] == []
    assert not Component.objects.exists()
    assert not Entity.objects.filter(name="finance.cashflow.0.daily-balances").exists()


def test_a_member_of_another_team_cannot_remove_a_component(cashflow, add_component, alice, bob):
    component = add_component(cashflow, alice, **port_values())
    with pytest.raises(PermissionDenied):
        services.component_remove(component=Component.objects.get(pk=component.pk), actor=bob)
    assert Component.objects.filter(pk=component.pk).exists()
