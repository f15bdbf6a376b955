"""The governance API: policies (everyone reads, staff write through policy_save, 400 naming the field),
evaluations with their filters, and ``POST evaluate`` (stored policies, inline bodies for staff only)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditEvent
from dataproducts.models import DataProductIdentity
from governance.models import Evaluation, Policy

pytestmark = pytest.mark.django_db

POLICIES = "/api/governance/policies/"
EVALUATIONS = "/api/governance/evaluations/"
EVALUATE = "/api/governance/evaluate"
DESCRIPTOR = {"id": "urn:dmb:dp:finance:cashflow:0", "version": "0.1.0", "components": []}


@pytest.fixture
def as_bob(api_client, bob):
    api_client.force_authenticate(bob)
    return api_client


@pytest.fixture
def as_platform(api_client, platform_user):
    api_client.force_authenticate(platform_user)
    return api_client


def test_everyone_signed_in_reads_policies_and_only_staff_write(api_client, as_bob, make_policy):
    make_policy("readable")

    assert as_bob.get(POLICIES).json()["results"][0]["name"] == "readable"
    assert as_bob.get(POLICIES + "readable/").json()["version"] == 1
    assert as_bob.post(POLICIES, {"name": "x", "engine": "scripted", "body": "pass"}, format="json").status_code == 403
    assert as_bob.patch(POLICIES + "readable/", {"body": "fail"}, format="json").status_code == 403
    assert as_bob.delete(POLICIES + "readable/").status_code == 403
    api_client.force_authenticate(None)
    assert api_client.get(POLICIES).status_code == 401


def test_staff_create_and_change_policies_with_versions_and_audit(as_platform):
    created = as_platform.post(
        POLICIES,
        {"name": "ports", "engine": "scripted", "body": "pass", "selector": {"resource": "outputport"}},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["version"] == 1 and created.json()["lifecycle"] == "draft"

    changed = as_platform.patch(POLICIES + "ports/", {"lifecycle": "enabled"}, format="json")

    assert changed.status_code == 200 and changed.json()["version"] == 2
    assert Policy.objects.get().versions.count() == 2
    assert list(AuditEvent.objects.values_list("action", flat=True).order_by("pk")) == [
        "policy.create",
        "policy.change",
    ]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"engine": "jsonschema", "body": "{"}, "body"),
        ({"engine": "nope"}, "engine"),
        ({"selector": {"resource": "cube"}}, "selector"),
        ({"environments": ["mars"]}, "environments"),
        ({"timing": []}, "timing"),
        ({"name": "with space"}, "name"),
    ],
)
def test_a_bad_policy_is_a_400_naming_the_field(as_platform, fields, field):
    answer = as_platform.post(POLICIES, {"name": "p", "engine": "scripted", "body": "pass", **fields}, format="json")

    assert answer.status_code == 400 and field in answer.json()["errors"], answer.json()
    assert not Policy.objects.exists()


def test_a_duplicate_name_is_a_400(as_platform, make_policy):
    make_policy("taken")

    answer = as_platform.post(POLICIES, {"name": "taken", "engine": "scripted", "body": "pass"}, format="json")

    assert answer.status_code == 400 and "name" in answer.json()["errors"]


def test_a_policy_with_evaluations_cannot_be_deleted(as_platform, make_policy):
    make_policy("unused")
    used = make_policy("used")
    product = DataProductIdentity.objects.create(dp_id="urn:dmb:dp:a:b:0", entity_name="a.b.0")
    Evaluation.objects.create(
        policy_version=used.versions.get(),
        product=product,
        environment="qa",
        resource_id="x",
        outcome="pass",
        severity="error",
    )

    assert as_platform.delete(POLICIES + "unused/").status_code == 204
    assert as_platform.delete(POLICIES + "used/").status_code == 409
    assert list(Policy.objects.values_list("name", flat=True)) == ["used"]


def test_evaluations_are_listed_with_filters(as_bob, make_policy):
    first, second = make_policy("first"), make_policy("second")
    ledger = DataProductIdentity.objects.create(dp_id="urn:dmb:dp:finance:ledger:0", entity_name="finance.ledger.0")
    other = DataProductIdentity.objects.create(dp_id="urn:dmb:dp:finance:other:0", entity_name="finance.other.0")
    for policy, product, outcome, environment in [
        (first, ledger, "pass", "qa"),
        (first, other, "fail", "qa"),
        (second, ledger, "fail", "production"),
    ]:
        Evaluation.objects.create(
            policy_version=policy.versions.get(),
            product=product,
            environment=environment,
            resource_id=product.dp_id,
            outcome=outcome,
            severity="error",
        )

    def listed(query: str) -> list[tuple]:
        answer = as_bob.get(EVALUATIONS + query)
        assert answer.status_code == 200, answer.json()
        return sorted((row["policy"], row["product"], row["environment"]) for row in answer.json()["results"])

    assert len(listed("")) == 3
    assert listed("?product=finance.ledger.0") == [
        ("first", "urn:dmb:dp:finance:ledger:0", "qa"),
        ("second", "urn:dmb:dp:finance:ledger:0", "production"),
    ]
    assert listed("?policy=first&outcome=fail") == [("first", "urn:dmb:dp:finance:other:0", "qa")]
    assert listed("?environment=production") == [("second", "urn:dmb:dp:finance:ledger:0", "production")]
    assert as_bob.get(EVALUATIONS + "?outcome=maybe").status_code == 400


def test_evaluate_runs_the_applicable_stored_policies(as_bob, make_policy):
    make_policy("blocks", body="fail")
    make_policy("warns", body="fail", lifecycle="grace")
    make_policy("elsewhere", body="fail", environments=["production"])

    answer = as_bob.post(EVALUATE, {"descriptor": DESCRIPTOR, "environment": "qa"}, format="json")

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["blocking"] is True
    assert [(r["policy"], r["outcome"], r["severity"], r["blocking"]) for r in body["results"]] == [
        ("blocks", "fail", "error", True),
        ("warns", "fail", "warning", False),
    ]
    assert body["results"][0]["messages"] == [
        {"path": "id", "message": "urn:dmb:dp:finance:cashflow:0 failed", "severity": "error"}
    ]
    assert not Evaluation.objects.exists()


def test_evaluate_takes_yaml_and_named_policies(as_bob, make_policy):
    make_policy("chosen", body="pass")
    make_policy("ignored", body="fail")

    answer = as_bob.post(
        EVALUATE,
        {
            "descriptor": "id: urn:dmb:dp:finance:cashflow:0\nversion: 0.1.0\n",
            "environment": "qa",
            "policies": ["chosen"],
        },
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    assert [(r["policy"], r["outcome"]) for r in answer.json()["results"]] == [("chosen", "pass")]
    assert as_bob.post(
        EVALUATE, {"descriptor": DESCRIPTOR, "environment": "qa", "policies": ["nope"]}, format="json"
    ).json()["errors"] == {"policies.0": ["'nope' is no stored policy"]}


@pytest.mark.parametrize(
    ("descriptor", "message"),
    [("id: [unclosed", "descriptor:"), ("- a list", "an object"), (12, "an object")],
)
def test_a_descriptor_that_is_not_yaml_or_an_object_is_a_400_naming_it(as_bob, descriptor, message):
    answer = as_bob.post(EVALUATE, {"descriptor": descriptor, "environment": "qa"}, format="json")

    assert answer.status_code == 400 and message in answer.json()["errors"]["descriptor"][0]


def test_inline_policy_bodies_are_for_staff_only(as_bob, api_client, platform_user):
    inline = {"engine": "jsonschema", "body": '{"required": ["owner"]}'}
    request = {"descriptor": DESCRIPTOR, "environment": "qa", "policies": [inline]}

    assert as_bob.post(EVALUATE, request, format="json").status_code == 403

    api_client.force_authenticate(platform_user)
    answer = api_client.post(EVALUATE, request, format="json")
    assert answer.status_code == 200, answer.json()
    [result] = answer.json()["results"]
    assert (result["policy"], result["outcome"], result["blocking"]) == ("inline-1", "fail", True)
    bad = api_client.post(EVALUATE, {**request, "policies": [{"engine": "jsonschema", "body": "{"}]}, format="json")
    assert bad.status_code == 400 and "policies.0" in bad.json()["errors"]
    assert not Policy.objects.exists()


def test_the_policy_list_costs_the_same_for_2_and_20_policies(
    api_client, alice, make_policy, django_assert_num_queries
):
    api_client.force_authenticate(alice)
    for index in range(2):
        make_policy(f"small-{index}")
    with CaptureQueriesContext(connection) as two:
        assert api_client.get(POLICIES).status_code == 200
    for index in range(18):
        make_policy(f"large-{index}")
    with CaptureQueriesContext(connection) as twenty:
        answer = api_client.get(POLICIES, {"limit": 50})

    assert len(twenty.captured_queries) == len(two.captured_queries)
    assert all(row["version"] == 1 for row in answer.json()["results"])
