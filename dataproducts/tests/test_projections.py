"""DataProduct, Component and Domain rows follow the catalog entities they project, whoever changed Git."""

from __future__ import annotations

import git
import pytest

from catalog.models import Entity, Location
from catalog.services import location_refresh, location_register, location_unregister
from core.services import OPERATOR
from core.testing.git import GitRepo
from dataproducts import selectors, testing
from dataproducts.models import Component, DataProduct, Domain
from dataproducts.projections import projections_rebuild
from dataproducts.tests.conftest import port_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_catalog")]


@pytest.fixture
def cashflow(create_dp, add_component, alice):
    """Created through the Builder, in its own Git repository (for the tests of Git changes and repositories)."""
    data_product = create_dp(alice)
    add_component(data_product, alice, **port_values())
    return DataProduct.objects.get(pk=data_product.pk)


@pytest.fixture
def built_cashflow(build_dp, alice):
    """The same product and output port, built without Git (for the tests that only need the catalog rows)."""
    data_product = build_dp(alice, components=[port_values()])
    return DataProduct.objects.get(pk=data_product.pk)


def _push(settings, tmp_path, change) -> None:
    """Change catalog-info.yaml directly in Git, as a person with a clone would."""
    clone = git.Repo.clone_from(settings.MESHFORGE_GIT_ROOT / "finance" / "cashflow.git", tmp_path / "clone")
    path = tmp_path / "clone" / "catalog-info.yaml"
    path.write_text(change(path.read_text()))
    clone.index.add(["catalog-info.yaml"])
    clone.index.commit("Direct change", author=git.Actor("Eve", "eve@example.com"))
    clone.remotes.origin.push("main:main")


def test_the_domains_of_the_catalog_are_projected(file_domains):
    assert sorted(Domain.objects.values_list("name", "title", "owner_ref")) == [
        ("finance", "Finance", "group:default/finance"),
        ("marketing", "Marketing", "group:default/marketing"),
    ]


def test_a_change_made_directly_in_git_reaches_the_projection_on_refresh(cashflow, settings, tmp_path):
    _push(settings, tmp_path, lambda text: text.replace('"Operating cash flows"', '"Changed in Git"'))
    location_refresh(location=cashflow.entity.location, actor=OPERATOR)

    cashflow.refresh_from_db()
    assert cashflow.description == "Changed in Git"


def test_the_component_is_linked_to_its_data_product(built_cashflow):
    component = Component.objects.get()
    assert component.data_product == built_cashflow
    assert (component.kind, component.slug, component.version) == ("outputport", "daily-balances", "0.0.0")
    assert component.infrastructure_template_id == "urn:dmb:itm:postgres:1"


def test_unregistering_the_location_removes_the_projections(built_cashflow, platform_user):
    location = Location.objects.get(pk=built_cashflow.entity.location_id)
    location_unregister(location=location, actor=platform_user)

    assert not DataProduct.objects.exists()
    assert not Component.objects.exists()


def test_a_system_that_stops_being_a_data_product_leaves_the_projection(built_cashflow):
    testing.dataproduct_file_edit(built_cashflow, lambda text: text.replace("type: dataproduct", "type: service", 1))

    assert Entity.objects.filter(ref="system:default/finance.cashflow.0").exists()
    assert not DataProduct.objects.exists()


def test_rebuilding_restores_lost_rows(built_cashflow):
    DataProduct.objects.all().delete()
    Domain.objects.all().delete()

    projections_rebuild()

    assert DataProduct.objects.get().name == "finance.cashflow.0"
    assert Component.objects.get().data_product.name == "finance.cashflow.0"
    assert Domain.objects.count() == 2


# --- what may attach to a data product, and which domains count -------------------------------------------------

FOREIGN_COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: finance.cashflow.0.exports, description: Not written by the finance team}
spec:
  type: outputport
  lifecycle: experimental
  owner: group:finance
  system: system:finance.cashflow.0
  mesh:
    name: Exports
    kind: outputport
    version: 0.0.0
    infrastructureTemplateId: urn:dmb:itm:postgres:1
    useCaseTemplateId: urn:dmb:utm:postgres-outputport:0.0.0
    dataContract: {schema: [{name: day, dataType: DATE}]}
"""


def _register(tmp_path, name: str, text: str, *, actor, trusted: bool = False) -> Location:
    """A repository of its own holding ``text`` in catalog-info.yaml, registered (untrusted unless asked)."""
    repo = GitRepo(tmp_path / "elsewhere", name)
    repo.put({"catalog-info.yaml": text})
    return location_register(type="git", target=repo.target(), actor=actor, trusted=trusted).location


def _register_file(root, name: str, text: str, *, actor, trusted: bool = False) -> Location:
    """A file of its own holding ``text``, registered (untrusted unless asked): where Git plays no part."""
    path = root / f"{name}.yaml"
    path.write_text(text)
    return location_register(type="file", target=str(path), actor=actor, trusted=trusted).location


def test_a_component_from_another_repository_does_not_join_the_data_product(
    cashflow, settings, tmp_path, platform_user
):
    # untrusted, as every location a non-staff user registers (on a host of CATALOG_URL_ALLOWED_HOSTS) is
    _register(tmp_path, "intruder", FOREIGN_COMPONENT, actor=platform_user)

    foreign = Component.objects.get(name="finance.cashflow.0.exports")
    assert foreign.data_product is None and foreign.system_name == "finance.cashflow.0"
    data_product = selectors.dataproduct_get(name="finance.cashflow.0")
    assert [component.slug for component in data_product.components.all()] == ["daily-balances"]
    view = selectors.dataproduct_descriptor(data_product=data_product, environment=settings.MESHFORGE_ENVIRONMENTS[0])
    assert [component["id"] for component in view.descriptor["components"]] == [
        "urn:dmb:cmp:finance:cashflow:0:daily-balances"
    ]

    # re-projecting the data product (a change in its own repository) does not pull it in either
    projections_rebuild()
    assert Component.objects.get(name="finance.cashflow.0.exports").data_product is None
    assert Component.objects.get(name="finance.cashflow.0.daily-balances").data_product == cashflow


def test_a_component_from_a_trusted_location_joins_the_data_product(built_cashflow, catalog_files, platform_user):
    _register_file(catalog_files, "platform-parts", FOREIGN_COMPONENT, actor=platform_user, trusted=True)

    assert Component.objects.get(name="finance.cashflow.0.exports").data_product == built_cashflow


FOREIGN_DOMAINS = """\
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata: {name: finance, namespace: evil, title: Not finance}
spec: {owner: group:marketing}
"""
NEW_DOMAIN = """\
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata: {name: newdom, title: Unvetted}
spec: {owner: group:marketing}
"""


def _domain_rows() -> list[tuple]:
    return sorted(Domain.objects.values_list("name", "title", "owner_ref", "entity__ref"))


@pytest.mark.parametrize("trusted", [False, True])
def test_domains_come_only_from_trusted_locations_in_the_default_namespace(
    file_domains, catalog_files, platform_user, trusted
):
    before = _domain_rows()
    assert before == [
        ("finance", "Finance", "group:default/finance", "domain:default/finance"),
        ("marketing", "Marketing", "group:default/marketing", "domain:default/marketing"),
    ]

    # another namespace never counts; an untrusted location never adds a domain
    _register_file(catalog_files, "namespaced", FOREIGN_DOMAINS, actor=platform_user, trusted=trusted)
    _register_file(catalog_files, "unvetted", NEW_DOMAIN, actor=platform_user)

    assert Entity.objects.filter(ref__in=["domain:evil/finance", "domain:default/newdom"]).count() == 2
    assert _domain_rows() == before
    projections_rebuild()
    assert _domain_rows() == before


def test_trusting_or_untrusting_a_location_updates_the_projections_that_depend_on_trust(
    file_domains, catalog_files, platform_user
):
    from catalog.services import location_trust_set

    location = _register_file(catalog_files, "unvetted", NEW_DOMAIN, actor=platform_user)
    assert not Domain.objects.filter(name="newdom").exists()

    location_trust_set(location=location, trusted=True, actor=platform_user)
    assert Domain.objects.get(name="newdom").title == "Unvetted"

    location_trust_set(location=Location.objects.get(pk=location.pk), trusted=False, actor=platform_user)
    assert not Domain.objects.filter(name="newdom").exists()


def test_a_foreign_component_puts_no_errors_on_the_data_product(built_cashflow, catalog_files, platform_user):
    dangling = FOREIGN_COMPONENT.replace(
        "    version: 0.0.0\n", "    version: 0.0.0\n    dependsOn: [urn:dmb:cmp:finance:cashflow:0:nothing]\n"
    )
    _register_file(catalog_files, "intruder", dangling, actor=platform_user)

    system = Entity.objects.get(ref="system:default/finance.cashflow.0")
    assert system.dp_errors == [] and not system.has_errors
    assert not DataProduct.objects.get().has_errors
