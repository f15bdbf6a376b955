"""The fast test builders (``dataproducts.testing``) make what the Builder makes: for the same values, the same
entity documents (the shape of the built-in templates) and the same ``DataProduct``/``Component`` rows, except
where the product lives (a file instead of a Git repository)."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from catalog.models import Entity, Location
from catalog.services import location_unregister
from core.services import OPERATOR
from dataproducts import selectors, testing
from dataproducts.models import Component, DataProduct
from dataproducts.tests.conftest import dp_values, port_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_catalog")]

# Columns that every version of the output port template accepts as they are.
COLUMNS = [
    {"name": "day", "dataType": "DATE", "description": "The day", "constraint": "PRIMARY_KEY"},
    {"name": "balance", "dataType": "BIGINT", "description": "End of day balance in cents"},
]
# One component of each built-in kind, each depending on the one before (as the Builder's values name them).
COMPONENTS = [
    ("template:storage", {"name": "ledger", "title": "Ledger", "description": "Raw ledger lines"}),
    (
        "template:workload",
        {
            "name": "daily-load",
            "title": "Daily load",
            "description": "Sums the ledger per day",
            "sql": "INSERT INTO daily_balances SELECT day, sum(amount) FROM ledger GROUP BY day",
            "dependsOn": ["urn:dmb:cmp:finance:cashflow:0:ledger"],
        },
    ),
    (
        "template:outputport",
        port_values(columns=COLUMNS, dependsOn=["urn:dmb:cmp:finance:cashflow:0:daily-load"]),
    ),
]
# What says where a product lives, or which row it is, rather than what it is.
PLACE_FIELDS = {"id", "entity", "repository_url", "updated_at"}
# Annotations the catalog adds, naming the location an entity was read from.
PLACE_ANNOTATIONS = (
    "backstage.io/managed-by-location",
    "backstage.io/managed-by-origin-location",
    "backstage.io/source-location",
)


def _row(instance) -> dict:
    row = model_to_dict(instance, exclude=PLACE_FIELDS)
    if "data_product" in row:
        row["data_product"] = instance.data_product.name if instance.data_product else None
    return row


def _document(entity: Entity) -> dict:
    """The entity's document without what names its location or the moment it was written."""
    document = entity.document
    annotations = {
        key: value
        for key, value in (document["metadata"].get("annotations") or {}).items()
        if key not in PLACE_ANNOTATIONS
    }
    mesh = {key: value for key, value in document["spec"].get("mesh", {}).items() if key != "creationDate"}
    return {
        **document,
        "metadata": {**document["metadata"], "annotations": annotations},
        "spec": {**document["spec"], "mesh": mesh},
    }


def _snapshot() -> tuple[dict, dict, dict]:
    data_product = DataProduct.objects.get()
    components = {component.name: component for component in Component.objects.select_related("data_product")}
    documents = {entity.ref: _document(entity) for entity in Entity.objects.filter(kind__in=["System", "Component"])}
    return _row(data_product), {name: _row(c) for name, c in components.items()}, documents


@pytest.fixture
def created_through_the_builder(create_dp, add_component, alice):
    """The product and its components made the real way (template → cookiecutter → Git → processing), as
    snapshots; then unregistered, so that the builder can make the same names again."""
    data_product = create_dp(alice)
    for template_ref, values in COMPONENTS:
        add_component(data_product, alice, template_ref=template_ref, **values)
    snapshot = _snapshot()
    location_unregister(location=Location.objects.get(pk=data_product.entity.location_id), actor=OPERATOR)
    assert not DataProduct.objects.exists() and not Component.objects.exists()
    return snapshot


def _kind(template_ref: str) -> str:
    return template_ref.split(":", 1)[1]


def test_a_built_product_projects_as_one_created_through_the_builder(created_through_the_builder, catalog_files):
    components = [{"kind": _kind(ref), **values} for ref, values in COMPONENTS]

    testing.dataproduct_build(root=catalog_files, user="alice", components=components, **dp_values())

    product, rows, documents = _snapshot()
    expected_product, expected_rows, expected_documents = created_through_the_builder
    assert product == expected_product
    assert rows == expected_rows
    assert documents.keys() == expected_documents.keys()
    for ref, expected in expected_documents.items():  # one entity at a time: pytest shows which field differs
        assert documents[ref]["spec"] == expected["spec"], ref
        assert documents[ref] == expected, ref


def test_components_built_one_at_a_time_project_as_those_added_through_the_builder(
    created_through_the_builder, catalog_files
):
    data_product = testing.dataproduct_build(root=catalog_files, user="alice", **dp_values())
    for ref, values in COMPONENTS:
        testing.component_build(data_product, kind=_kind(ref), user="alice", **values)

    assert _snapshot() == created_through_the_builder


def test_a_built_product_is_a_data_product_of_the_catalog_without_errors(build_dp, build_component, alice):
    data_product = build_dp(alice, components=[{"kind": "storage", "name": "ledger", "title": "Ledger"}])
    port = build_component(data_product, alice, **port_values(dependsOn=["urn:dmb:cmp:finance:cashflow:0:ledger"]))

    data_product = selectors.dataproduct_get(name="finance.cashflow.0")
    assert data_product.entity.all_errors == [] and not data_product.has_errors
    assert data_product.owner_team == "finance" and data_product.data_product_owner == "user:alice"
    assert [component.slug for component in data_product.components.all()] == ["daily-balances", "ledger"]
    assert port.data_product == data_product and port.depends_on == ["urn:dmb:cmp:finance:cashflow:0:ledger"]
    assert Entity.objects.get(ref="system:default/finance.cashflow.0").location.trusted


def test_the_built_templates_are_the_builtin_ones(file_templates):
    assert sorted(template.name for template in selectors.template_list()) == [
        "dataproduct",
        "outputport",
        "storage",
        "workload",
    ]
    assert selectors.template_get(ref="template:outputport").spec["mesh"] == testing.template_mesh("outputport")
    assert all(not entity.has_errors for entity in Entity.objects.filter(location__isnull=False))


def test_the_built_domains_are_projected(file_domains):
    assert [(domain.name, domain.owner_ref) for domain in selectors.domain_list()] == [
        ("finance", "group:default/finance"),
        ("marketing", "group:default/marketing"),
    ]


def test_what_the_catalog_refuses_fails_the_build_with_the_catalogs_reason(build_dp, alice):
    with pytest.raises(
        testing.BuildFailed, match=r"finance\.Bad Name\.0: catalog processing reported .*metadata\.name"
    ):
        build_dp(alice, name="Bad Name")


def test_an_unknown_kind_is_refused_naming_it():
    with pytest.raises(ValueError, match="kind: 'dashboard'"):
        testing.entity_document(
            kind="dashboard", meta={"domain": "d", "name": "n", "major": 0, "owner": "o"}, values={}
        )


def test_a_component_for_a_product_from_git_is_refused(create_dp, alice, catalog_files):
    data_product = create_dp(alice)
    with pytest.raises(ValueError, match=r"data_product: finance\.cashflow\.0 was not made by dataproduct_build"):
        testing.component_build(data_product, name="daily-balances", title="Daily balances")


def test_a_built_products_file_edited_where_it_lives_reaches_the_projection(build_dp, alice):
    data_product = build_dp(alice)

    edited = testing.dataproduct_file_edit(data_product, lambda text: text.replace("Operating cash", "Edited cash"))

    assert edited.description == "Edited cash flows"
    assert (
        testing.dataproduct_file_edit(edited, lambda text: text.replace("type: dataproduct", "type: service")) is None
    )
