"""Tests for catalog.refs: entity reference parsing, canonical keys, and data product URNs (PRODUCT §1, §3.1)."""

import pickle

import pytest

from catalog.refs import (
    DataProductUrn,
    EntityRef,
    RefError,
    component_urn,
    dp_urn,
    parse_dp_entity_name,
    parse_ref,
    parse_urn,
    ref_of,
    urn_to_ref,
)


@pytest.mark.parametrize(
    ("text", "kind", "namespace", "name"),
    [
        ("component:default/payments", "component", "default", "payments"),
        ("component:payments", "component", "default", "payments"),
        ("Component:Ops/Payments", "Component", "Ops", "Payments"),
        ("group:team-a", "group", "default", "team-a"),
        ("user:name.surname_agilelab.it", "user", "default", "name.surname_agilelab.it"),
        ("system:finance.cashflow.0", "system", "default", "finance.cashflow.0"),
        # Everything after the namespace's slash is the name, slashes and colons included.
        ("k:ns/a/b", "k", "ns", "a/b"),
        ("k:ns/a:b", "k", "ns", "a:b"),
    ],
)
def test_a_reference_is_split_into_kind_namespace_and_name_as_written(text, kind, namespace, name):
    assert parse_ref(text) == EntityRef(kind=kind, namespace=namespace, name=name)


def test_a_slash_before_the_first_colon_means_the_colon_belongs_to_the_name():
    assert parse_ref("ns/a:b", default_kind="component") == EntityRef("component", "ns", "a:b")


def test_a_slash_before_the_colon_leaves_the_reference_without_a_kind():
    with pytest.raises(RefError, match="kind is required"):
        parse_ref("ns/a:b")


def test_the_default_kind_fills_a_missing_kind_only():
    assert parse_ref("finance", default_kind="group") == EntityRef("group", "default", "finance")
    assert parse_ref("user:alice", default_kind="group") == EntityRef("user", "default", "alice")


def test_the_default_namespace_fills_a_missing_namespace_only():
    assert parse_ref("group:finance", default_namespace="ops") == EntityRef("group", "ops", "finance")
    assert parse_ref("group:hr/finance", default_namespace="ops") == EntityRef("group", "hr", "finance")


def test_the_key_is_the_lower_case_canonical_form():
    ref = parse_ref("Component:Ops/Payments")
    assert ref.key == "component:ops/payments"
    assert str(ref) == "component:ops/payments"


def test_references_that_differ_only_in_case_have_the_same_key():
    assert parse_ref("GROUP:Default/Finance").key == parse_ref("group:finance").key


def test_a_ref_keeps_its_case_but_is_immutable():
    ref = parse_ref("Group:Finance")
    assert (ref.kind, ref.name) == ("Group", "Finance")
    with pytest.raises(AttributeError):
        ref.name = "other"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (":x", 'entity reference ":x" has an empty kind'),
        ("x:", 'entity reference "x:" has an empty name'),
        ("/x", 'entity reference "/x" has an empty namespace'),
        ("k:/x", 'entity reference "k:/x" has an empty namespace'),
        ("k:ns/", 'entity reference "k:ns/" has an empty name'),
        ("ns/", 'entity reference "ns/" has an empty name'),
        ("k: ", 'entity reference "k: " has an empty name'),
        ("", 'entity reference "" is empty'),
    ],
)
def test_a_reference_with_an_empty_part_is_refused(text, message):
    with pytest.raises(RefError) as caught:
        parse_ref(text, default_kind="component")
    assert str(caught.value) == message


def test_a_missing_kind_without_a_default_is_refused_naming_that_a_kind_is_required():
    with pytest.raises(RefError) as caught:
        parse_ref("payments")
    assert str(caught.value).startswith('entity reference "payments" has no kind, and a kind is required here')


@pytest.mark.parametrize("value", [5, None, ["group:a"], {"kind": "group"}, b"group:a"])
def test_a_reference_that_is_not_a_string_is_refused(value):
    with pytest.raises(RefError, match=f"entity reference must be a string, not {type(value).__name__}"):
        parse_ref(value)


@pytest.mark.parametrize(
    ("text", "part"),
    [("k" * 64 + ":x", "kind"), ("k:" + "n" * 64 + "/x", "namespace"), ("k:" + "x" * 64, "name")],
)
def test_a_reference_part_longer_than_an_entity_part_can_be_is_refused(text, part):
    with pytest.raises(RefError, match=f"has a {part} longer than 63 characters"):
        parse_ref(text)


def test_a_ref_error_is_a_value_error_that_survives_pickling():
    with pytest.raises(ValueError) as caught:
        parse_ref("x:")
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own object
    assert str(copy) == 'entity reference "x:" has an empty name'
    assert copy.problem == "has an empty name"


def test_the_ref_of_a_document_defaults_its_namespace():
    document = {"kind": "Component", "metadata": {"name": "Payments"}}
    assert ref_of(document) == EntityRef("Component", "default", "Payments")
    assert ref_of(document).key == "component:default/payments"


def test_the_ref_of_a_document_uses_its_namespace():
    assert ref_of({"kind": "Group", "metadata": {"name": "a", "namespace": "ops"}}).key == "group:ops/a"


@pytest.mark.parametrize(
    "document",
    [
        {"kind": "Component"},
        {"kind": "Component", "metadata": {}},
        {"kind": "Component", "metadata": {"name": 5}},
        {"metadata": {"name": "a"}},
        {"kind": "Component", "metadata": {"name": "a", "namespace": 3}},
        ["kind", "Component"],
    ],
)
def test_a_document_without_kind_and_name_has_no_ref(document):
    with pytest.raises(RefError, match="cannot be made"):
        ref_of(document)


def test_data_product_and_component_urns_are_built_from_their_parts():
    assert dp_urn("finance", "cashflow", 0) == "urn:dmb:dp:finance:cashflow:0"
    assert component_urn("finance", "cashflow", "0", "ledger") == "urn:dmb:cmp:finance:cashflow:0:ledger"


def test_a_data_product_urn_stands_for_its_system():
    assert urn_to_ref("urn:dmb:dp:finance:cashflow:0") == EntityRef("system", "default", "finance.cashflow.0")


def test_a_component_urn_stands_for_its_component():
    ref = urn_to_ref("urn:dmb:cmp:finance:cashflow:0:daily-balances")
    assert ref == EntityRef("component", "default", "finance.cashflow.0.daily-balances")
    assert ref.key == "component:default/finance.cashflow.0.daily-balances"


@pytest.mark.parametrize(
    "urn",
    [
        "urn:dmb:ex:mainframe_db2_database",
        "urn:dmb:dp:finance:cashflow",
        "urn:dmb:dp:finance:cashflow:v0",
        "urn:dmb:dp:finance:cashflow:01",
        "urn:dmb:dp:finance:cashflow:0\n",
        "urn:dmb:dp:finance:cash.flow:0",
        "urn:dmb:cmp:finance:cashflow:0",
        "urn:dmb:cmp:finance:cashflow:0:ledger:extra",
        "urn:dmb:itm:postgres:1",
        "URN:DMB:DP:finance:cashflow:0",
        "urn:dmb:cmp:finance:cashflow:0:" + "x" * 50,
        "system:finance.cashflow.0",
        "",
        5,
        None,
    ],
)
def test_anything_but_a_data_product_or_component_urn_has_no_ref(urn):
    assert urn_to_ref(urn) is None
    assert parse_urn(urn) is None


def test_the_parts_of_a_urn_give_its_ids_and_names():
    parts = parse_urn("urn:dmb:cmp:finance:cashflow:0:ledger")
    assert parts == DataProductUrn("finance", "cashflow", "0", "ledger")
    assert parts.urn == "urn:dmb:cmp:finance:cashflow:0:ledger"
    assert parts.dp_urn == "urn:dmb:dp:finance:cashflow:0"
    assert parts.entity_name == "finance.cashflow.0.ledger"
    assert parts.system_ref.key == "system:default/finance.cashflow.0"


@pytest.mark.parametrize(
    ("name", "component", "expected"),
    [
        ("finance.cashflow.0", False, DataProductUrn("finance", "cashflow", "0")),
        ("my_domain.my_data_product.12", False, DataProductUrn("my_domain", "my_data_product", "12")),
        ("finance.cashflow.0.ledger", True, DataProductUrn("finance", "cashflow", "0", "ledger")),
        ("finance.cashflow.0.ledger", False, None),
        ("finance.cashflow.0", True, None),
        ("finance.cashflow.01", False, None),
        ("finance.cashflow.-1", False, None),
        ("finance.cashflow", False, None),
        ("finance.cashflow.0\n", False, None),
        (None, False, None),
    ],
)
def test_a_data_product_entity_name_gives_the_parts_of_its_id(name, component, expected):
    assert parse_dp_entity_name(name, component=component) == expected
