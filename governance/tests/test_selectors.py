"""Which policies apply (lifecycle, environments, timing) and what they judge in a descriptor (selector: resource
kind, maturity, domain, template ids; a component policy once per selected component)."""

from __future__ import annotations

import pytest

from governance.choices import Lifecycle
from governance.models import Policy
from governance.selectors import policies_applicable, policy_resources

pytestmark = pytest.mark.django_db

DESCRIPTOR = {
    "id": "urn:dmb:dp:finance:cashflow:0",
    "domain": "finance",
    "maturity": "Strategic",
    "useCaseTemplateId": "urn:dmb:utm:dataproduct-template:0.0.0",
    "components": [
        {"id": "c:port-a", "kind": "outputport", "useCaseTemplateId": "urn:dmb:utm:postgres-outputport-template:0.0.0"},
        {"id": "c:port-b", "kind": "outputport", "useCaseTemplateId": "urn:dmb:utm:s3-outputport-template:1.0.0"},
        {"id": "c:job", "kind": "workload", "infrastructureTemplateId": "urn:dmb:itm:airflow:1"},
    ],
}


def names(policies) -> list[str]:
    return [policy.name for policy in policies]


def test_the_gate_skips_drafts_and_the_bench_runs_them(make_policy):
    for lifecycle in Lifecycle.values:
        make_policy(lifecycle, lifecycle=lifecycle)

    assert names(policies_applicable(environment="qa", timing="deployment")) == ["deprecated", "enabled", "grace"]
    assert len(policies_applicable(environment="qa", timing="deployment", for_gate=False)) == 4


def test_environments_and_timing_narrow_the_policies(make_policy):
    make_policy("everywhere")
    make_policy("prod-only", environments=["production"])
    make_policy("runtime-only", timing=["runtime"])
    make_policy("both", timing=["deployment", "runtime"], environments=["qa", "production"])

    assert names(policies_applicable(environment="qa", timing="deployment")) == ["both", "everywhere"]
    assert names(policies_applicable(environment="production", timing="deployment")) == [
        "both",
        "everywhere",
        "prod-only",
    ]
    assert names(policies_applicable(environment="production", timing="runtime")) == ["both", "runtime-only"]


def resource_ids(selector: dict, descriptor: dict = DESCRIPTOR) -> list[str]:
    return [
        item.id for item in policy_resources(selector=selector, descriptor=descriptor, previous=None, environment="qa")
    ]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"resource": "dataproduct"}, ["urn:dmb:dp:finance:cashflow:0"]),
        ({"resource": "dataproduct", "maturity": "strategic"}, ["urn:dmb:dp:finance:cashflow:0"]),
        ({"resource": "dataproduct", "maturity": "Tactical"}, []),
        ({"resource": "dataproduct", "domain": ["marketing", "finance"]}, ["urn:dmb:dp:finance:cashflow:0"]),
        ({"resource": "dataproduct", "domain": "marketing"}, []),
        (
            {"resource": "dataproduct", "useCaseTemplateId": "urn:dmb:utm:dataproduct-template"},
            ["urn:dmb:dp:finance:cashflow:0"],
        ),
        ({"resource": "outputport"}, ["c:port-a", "c:port-b"]),
        ({"resource": "outputport", "useCaseTemplateId": "urn:dmb:utm:s3-outputport-template"}, ["c:port-b"]),
        ({"resource": "outputport", "useCaseTemplateId": "urn:dmb:utm:s3-outputport-template:1.0.0"}, ["c:port-b"]),
        ({"resource": "outputport", "domain": "marketing"}, []),
        ({"resource": "workload", "infrastructureTemplateId": "urn:dmb:itm:airflow"}, ["c:job"]),
        ({"resource": "storage"}, []),
    ],
)
def test_the_selector_chooses_the_resources(selector, expected):
    assert resource_ids(selector) == expected


def test_a_component_resource_carries_its_product_and_its_previous_self():
    previous = {**DESCRIPTOR, "components": [{"id": "c:port-b", "kind": "outputport", "version": "0.9.0"}]}

    items = policy_resources(
        selector={"resource": "outputport"}, descriptor=DESCRIPTOR, previous=previous, environment="qa"
    )

    assert [item.resource["component"]["id"] for item in items] == ["c:port-a", "c:port-b"]
    assert all(item.resource["dataProduct"] is DESCRIPTOR for item in items)
    assert items[0].previous is None
    assert items[1].previous == {"dataProduct": previous, "component": previous["components"][0]}
    assert items[1].context == {"id": "c:port-b", "kind": "outputport", "environment": "qa"}


def test_given_policies_are_filtered_without_the_database(django_assert_num_queries):
    policies = [
        Policy(name="ports", engine="scripted", body="pass", lifecycle="enabled", selector={"resource": "outputport"}),
        Policy(name="storage", engine="scripted", body="pass", lifecycle="enabled", selector={"resource": "storage"}),
        Policy(name="draft", engine="scripted", body="pass", lifecycle="draft"),
    ]
    with django_assert_num_queries(0):
        found = policies_applicable(environment="qa", timing="deployment", descriptor=DESCRIPTOR, policies=policies)
    assert names(found) == ["ports"]
