"""DataProduct, Component and Domain rows follow the catalog entities they project, whoever changed Git."""

from __future__ import annotations

import git
import pytest

from catalog.models import Entity, Location
from catalog.services import location_refresh, location_unregister
from core.services import OPERATOR
from dataproducts.models import Component, DataProduct, Domain
from dataproducts.projections import projections_rebuild
from dataproducts.tests.conftest import port_values

pytestmark = pytest.mark.django_db


@pytest.fixture
def cashflow(create_dp, add_component, alice):
    data_product = create_dp(alice)
    add_component(data_product, alice, **port_values())
    return DataProduct.objects.get(pk=data_product.pk)


def _push(settings, tmp_path, change) -> None:
    """Change catalog-info.yaml directly in Git, as a person with a clone would."""
    clone = git.Repo.clone_from(settings.MESHFORGE_GIT_ROOT / "finance" / "cashflow.git", tmp_path / "clone")
    path = tmp_path / "clone" / "catalog-info.yaml"
    path.write_text(change(path.read_text()))
    clone.index.add(["catalog-info.yaml"])
    clone.index.commit("Direct change", author=git.Actor("Eve", "eve@example.com"))
    clone.remotes.origin.push("main:main")


def test_the_domains_of_the_catalog_are_projected(domains):
    assert sorted(Domain.objects.values_list("name", "title", "owner_ref")) == [
        ("finance", "Finance", "group:default/finance"),
        ("marketing", "Marketing", "group:default/marketing"),
    ]


def test_a_change_made_directly_in_git_reaches_the_projection_on_refresh(cashflow, settings, tmp_path):
    _push(settings, tmp_path, lambda text: text.replace('"Operating cash flows"', '"Changed in Git"'))
    location_refresh(location=cashflow.entity.location, actor=OPERATOR)

    cashflow.refresh_from_db()
    assert cashflow.description == "Changed in Git"


def test_the_component_is_linked_to_its_data_product(cashflow):
    component = Component.objects.get()
    assert component.data_product == cashflow
    assert (component.kind, component.slug, component.version) == ("outputport", "daily-balances", "0.0.0")
    assert component.infrastructure_template_id == "urn:dmb:itm:postgres:1"


def test_unregistering_the_location_removes_the_projections(cashflow, alice):
    location = Location.objects.get(pk=cashflow.entity.location_id)
    location_unregister(location=location, actor=alice)

    assert not DataProduct.objects.exists()
    assert not Component.objects.exists()


def test_a_system_that_stops_being_a_data_product_leaves_the_projection(cashflow, settings, tmp_path):
    _push(settings, tmp_path, lambda text: text.replace("type: dataproduct", "type: service", 1))
    location_refresh(location=cashflow.entity.location, actor=OPERATOR)

    assert Entity.objects.filter(ref="system:default/finance.cashflow.0").exists()
    assert not DataProduct.objects.exists()


def test_rebuilding_restores_lost_rows(cashflow):
    DataProduct.objects.all().delete()
    Domain.objects.all().delete()

    projections_rebuild()

    assert DataProduct.objects.get().name == "finance.cashflow.0"
    assert Component.objects.get().data_product.name == "finance.cashflow.0"
    assert Domain.objects.count() == 2
