"""Tests for catalog.validation.entity_relations and normalize_entity: the relations an entity's spec generates
(PRODUCT §3.1) and the processed document the catalog stores."""

import copy

import pytest

from catalog.refs import RefError
from catalog.validation import entity_relations, normalize_entity


def entity(kind: str, name: str, spec: dict, namespace: str | None = None) -> dict:
    metadata = {"name": name} if namespace is None else {"name": name, "namespace": namespace}
    return {"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec}


def both_ways(source: str, relation: str, target: str, reverse: str) -> list[tuple[str, str, str]]:
    return [(source, relation, target), (target, reverse, source)]


def test_a_component_relates_to_everything_its_spec_names_in_both_directions():
    document = entity(
        "Component",
        "payments",
        {
            "type": "service",
            "lifecycle": "production",
            "owner": "payments-team",
            "system": "checkout",
            "subcomponentOf": "billing",
            "providesApis": ["payments-api"],
            "consumesApis": ["api:ledger-api"],
            "dependsOn": ["resource:payments-db"],
            "dependencyOf": ["component:checkout-web"],
        },
    )
    me = "component:default/payments"
    assert entity_relations(document) == [
        *both_ways(me, "ownedBy", "group:default/payments-team", "ownerOf"),
        *both_ways(me, "partOf", "system:default/checkout", "hasPart"),
        *both_ways(me, "partOf", "component:default/billing", "hasPart"),
        *both_ways(me, "providesApi", "api:default/payments-api", "apiProvidedBy"),
        *both_ways(me, "consumesApi", "api:default/ledger-api", "apiConsumedBy"),
        *both_ways(me, "dependsOn", "resource:default/payments-db", "dependencyOf"),
        *both_ways(me, "dependencyOf", "component:default/checkout-web", "dependsOn"),
    ]


@pytest.mark.parametrize(
    ("kind", "spec", "expected"),
    [
        (
            "System",
            {"owner": "user:alice", "domain": "finance"},
            [
                *both_ways("system:default/x", "ownedBy", "user:default/alice", "ownerOf"),
                *both_ways("system:default/x", "partOf", "domain:default/finance", "hasPart"),
            ],
        ),
        (
            "Domain",
            {"owner": "finance", "subdomainOf": "corporate"},
            [
                *both_ways("domain:default/x", "ownedBy", "group:default/finance", "ownerOf"),
                *both_ways("domain:default/x", "partOf", "domain:default/corporate", "hasPart"),
            ],
        ),
        (
            "Resource",
            {"type": "db", "owner": "finance", "system": "cashflow", "dependsOn": ["resource:disk"]},
            [
                *both_ways("resource:default/x", "ownedBy", "group:default/finance", "ownerOf"),
                *both_ways("resource:default/x", "partOf", "system:default/cashflow", "hasPart"),
                *both_ways("resource:default/x", "dependsOn", "resource:default/disk", "dependencyOf"),
            ],
        ),
        (
            "API",
            {"type": "openapi", "lifecycle": "production", "owner": "finance", "definition": "x", "system": "cashflow"},
            [
                *both_ways("api:default/x", "ownedBy", "group:default/finance", "ownerOf"),
                *both_ways("api:default/x", "partOf", "system:default/cashflow", "hasPart"),
            ],
        ),
        (
            "User",
            {"memberOf": ["finance", "group:ops/platform"]},
            [
                *both_ways("user:default/x", "memberOf", "group:default/finance", "hasMember"),
                *both_ways("user:default/x", "memberOf", "group:ops/platform", "hasMember"),
            ],
        ),
        (
            "Group",
            {"type": "team", "parent": "finance", "children": ["treasury"], "members": ["alice"]},
            [
                *both_ways("group:default/x", "childOf", "group:default/finance", "parentOf"),
                *both_ways("group:default/x", "parentOf", "group:default/treasury", "childOf"),
                *both_ways("group:default/x", "hasMember", "user:default/alice", "memberOf"),
            ],
        ),
        (
            "Template",
            {"type": "dataproduct", "parameters": [], "owner": "platform"},
            both_ways("template:default/x", "ownedBy", "group:default/platform", "ownerOf"),
        ),
        ("Location", {"target": "./a.yaml"}, []),
        ("Widget", {"owner": "finance", "dependsOn": ["component:a"]}, []),
    ],
)
def test_each_kind_generates_the_relations_of_its_spec(kind, spec, expected):
    assert entity_relations(entity(kind, "x", spec)) == expected


def test_refs_without_a_namespace_default_to_the_entity_namespace_as_in_backstage():
    document = entity("Component", "payments", {"owner": "team-a", "system": "default/checkout"}, namespace="ops")
    assert entity_relations(document) == [
        *both_ways("component:ops/payments", "ownedBy", "group:ops/team-a", "ownerOf"),
        *both_ways("component:ops/payments", "partOf", "system:default/checkout", "hasPart"),
    ]


def test_relation_ends_are_lower_case_keys():
    document = entity("Component", "Payments", {"owner": "Group:Finance"})
    assert entity_relations(document) == both_ways(
        "component:default/payments", "ownedBy", "group:default/finance", "ownerOf"
    )


def test_kinds_are_matched_case_insensitively():
    document = entity("component", "payments", {"owner": "finance"})
    assert entity_relations(document)[0] == ("component:default/payments", "ownedBy", "group:default/finance")


def test_a_ref_with_a_slash_before_its_colon_keeps_the_colon_in_the_name():
    document = entity("Component", "payments", {"owner": "ops/a:b"})
    assert entity_relations(document)[0] == ("component:default/payments", "ownedBy", "group:ops/a:b")


def test_refs_that_do_not_parse_are_skipped():
    document = entity(
        "Component",
        "payments",
        {"owner": "group:", "system": 5, "dependsOn": [":x", None, "resource:db"], "providesApis": "api:x"},
    )
    assert entity_relations(document) == both_ways(
        "component:default/payments", "dependsOn", "resource:default/db", "dependencyOf"
    )


def test_relations_are_deduplicated_keeping_the_first_position():
    document = entity(
        "Component",
        "finance.cashflow.0.view",
        {
            "owner": "finance",
            "dependsOn": ["component:finance.cashflow.0.ledger", "Component:default/Finance.Cashflow.0.Ledger"],
            "dependencyOf": ["component:finance.cashflow.0.ledger"],
            "mesh": {"dependsOn": ["urn:dmb:cmp:finance:cashflow:0:ledger"]},
        },
    )
    me = "component:default/finance.cashflow.0.view"
    ledger = "component:default/finance.cashflow.0.ledger"
    assert entity_relations(document) == [
        *both_ways(me, "ownedBy", "group:default/finance", "ownerOf"),
        *both_ways(me, "dependsOn", ledger, "dependencyOf"),
        *both_ways(me, "dependencyOf", ledger, "dependsOn"),
    ]


def test_a_data_product_component_relates_through_its_mesh_dependencies_and_lineage():
    document = entity(
        "Component",
        "finance.cashflow.0.view",
        {
            "type": "outputport",
            "system": "system:finance.cashflow.0",
            "mesh": {
                "dependsOn": ["urn:dmb:cmp:finance:cashflow:0:ledger", "urn:dmb:dp:finance:cashflow:0", "junk"],
                "readsFrom": ["urn:dmb:cmp:sales:orders:1:orders-view", "urn:dmb:ex:mainframe", "junk"],
                "logicallyReadsFrom": ["urn:dmb:dp:crm:customers:2"],
            },
        },
    )
    me = "component:default/finance.cashflow.0.view"
    assert entity_relations(document) == [
        *both_ways(me, "partOf", "system:default/finance.cashflow.0", "hasPart"),
        *both_ways(me, "dependsOn", "component:default/finance.cashflow.0.ledger", "dependencyOf"),
        *both_ways(me, "readsFrom", "component:default/sales.orders.1.orders-view", "readBy"),
        *both_ways(me, "logicallyReadsFrom", "system:default/crm.customers.2", "logicallyReadBy"),
    ]


def test_mesh_lineage_of_a_system_is_not_read():
    document = entity("System", "finance.cashflow.0", {"owner": "finance", "mesh": {"readsFrom": ["urn:dmb:dp:a:b:0"]}})
    assert [relation for _source, relation, _target in entity_relations(document)] == ["ownedBy", "ownerOf"]


def test_a_mesh_that_is_not_an_object_generates_nothing():
    document = entity("Component", "finance.cashflow.0.view", {"mesh": ["urn:dmb:cmp:finance:cashflow:0:ledger"]})
    assert entity_relations(document) == []


def test_a_document_without_a_ref_has_no_relations_to_give():
    with pytest.raises(RefError):
        entity_relations({"kind": "Component", "spec": {"owner": "finance"}})


def test_the_stored_form_drops_relations_and_status_and_defaults_the_namespace():
    document = entity("Component", "payments", {"owner": "finance"})
    document["relations"] = [{"type": "ownedBy", "targetRef": "group:default/someone-else"}]
    document["status"] = {"items": []}
    assert normalize_entity(document) == {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "payments", "namespace": "default"},
        "spec": {"owner": "finance"},
    }


def test_the_stored_form_keeps_a_written_namespace_and_everything_else_as_written():
    document = entity("Component", "Payments", {"owner": "Group:Finance", "extra": [1, {"x": None}]}, namespace="ops")
    document["metadata"]["annotations"] = {"a": "b"}
    processed = normalize_entity(document)
    assert processed == document
    assert list(processed) == ["apiVersion", "kind", "metadata", "spec"]


def test_the_stored_form_is_a_deep_copy_and_leaves_the_input_unchanged():
    document = entity("Component", "payments", {"dependsOn": ["a"]})
    document["status"] = {}
    original = copy.deepcopy(document)
    processed = normalize_entity(document)
    processed["spec"]["dependsOn"].append("b")
    processed["metadata"]["name"] = "other"
    assert document == original


def test_the_stored_form_tolerates_a_document_without_metadata():
    assert normalize_entity({"kind": "Component", "status": 1}) == {"kind": "Component"}
