"""Policies (PRODUCT §5): every field checked with an error naming it, the body checked by its engine, every saved
change a new immutable version with an audit event; waivers need a reason and a future expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import AuditEvent
from dataproducts.models import DataProductIdentity
from governance.choices import Lifecycle
from governance.models import Policy, PolicyVersion
from governance.services import policy_lifecycle_set, policy_save, waiver_create

pytestmark = pytest.mark.django_db


def errors_of(platform_user, **fields) -> dict[str, list[str]]:
    fields = {"name": "a-policy", "engine": "scripted", "body": "pass", **fields}
    with pytest.raises(ValidationError) as caught:
        policy_save(policy=Policy(**fields), actor=platform_user)
    assert not Policy.objects.exists()
    return caught.value.message_dict


def test_a_body_that_does_not_compile_is_refused_naming_line_and_column(platform_user):
    errors = errors_of(platform_user, engine="jsonschema", body='{"type": ')

    assert list(errors) == ["body"]
    assert errors["body"][0].startswith("line 1, column 10:")


def test_a_schema_that_is_not_a_json_schema_is_refused(platform_user):
    assert "not a valid JSON Schema" in errors_of(platform_user, engine="jsonschema", body='{"type": 12}')["body"][0]


def test_an_unknown_engine_is_refused_naming_the_known_ones(platform_user):
    assert errors_of(platform_user, engine="opa")["engine"] == [
        "'opa' is not an engine; known: jsonschema, rego, remote, breaking_change, scripted"
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("environments", ["staging"], "unknown environment 'staging'; known: development, qa, production"),
        ("environments", "production", "must be a list of environment names (empty: every environment)"),
        ("timing", [], "must be a non-empty list of deployment and/or runtime"),
        ("timing", ["nightly"], "unknown timing 'nightly'; allowed: deployment, runtime"),
        (
            "selector",
            {"resource": "table"},
            "resource must be one of dataproduct, outputport, workload, storage, observability, got 'table'",
        ),
        (
            "selector",
            {"resource": "dataproduct", "colour": "red"},
            "unknown key colour; allowed: resource, maturity, domain, useCaseTemplateId, infrastructureTemplateId",
        ),
        (
            "selector",
            {"resource": "dataproduct", "maturity": 3},
            "maturity must be a non-empty string or a list of them, got 3",
        ),
        ("selector", ["dataproduct"], 'must be an object such as {"resource": "dataproduct"}'),
        ("name", "Not a slug", "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."),
    ],
)
def test_each_field_is_checked_with_an_error_naming_it(platform_user, field, value, message):
    assert errors_of(platform_user, **{field: value})[field] == [message]


def test_every_saved_change_makes_a_version_and_an_audit_event(platform_user):
    policy = policy_save(policy=Policy(name="p", engine="scripted", body="pass"), actor=platform_user)
    policy_save(policy=policy, actor=platform_user)  # unchanged: nothing new
    policy.body = "fail"
    policy_save(policy=policy, actor=platform_user)
    policy_lifecycle_set(policy=policy, lifecycle=Lifecycle.ENABLED, actor=platform_user)

    versions = list(policy.versions.order_by("number").values_list("number", "body", "lifecycle", "created_by"))
    assert versions == [
        (1, "pass", "draft", platform_user.pk),
        (2, "fail", "draft", platform_user.pk),
        (3, "fail", "enabled", platform_user.pk),
    ]
    events = list(AuditEvent.objects.order_by("pk").values_list("action", "actor"))
    assert events == [("policy.create", platform_user.pk)] + [("policy.change", platform_user.pk)] * 2
    last = AuditEvent.objects.order_by("pk").last()
    assert (last.before["lifecycle"], last.after["lifecycle"]) == ("draft", "enabled")


def test_a_policy_version_cannot_be_changed(platform_user):
    policy = policy_save(policy=Policy(name="p", engine="scripted", body="pass"), actor=platform_user)
    version = PolicyVersion.objects.get(policy=policy)

    version.body = "fail"
    with pytest.raises(ValidationError):
        version.save()
    assert PolicyVersion.objects.get().body == "pass"


@pytest.fixture
def product(db):
    return DataProductIdentity.objects.create(dp_id="urn:dmb:dp:finance:cashflow:0", entity_name="finance.cashflow.0")


def test_a_waiver_needs_a_reason_and_a_future_expiry(platform_user, product):
    policy = policy_save(policy=Policy(name="p", engine="scripted", body="pass"), actor=platform_user)
    tomorrow = timezone.now() + timedelta(days=1)

    with pytest.raises(ValidationError) as caught:
        waiver_create(policy=policy, product=product, reason="  ", expires_at=tomorrow, actor=platform_user)
    assert "reason" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        waiver_create(
            policy=policy,
            product=product,
            reason="late",
            expires_at=timezone.now() - timedelta(minutes=1),
            actor=platform_user,
        )
    assert caught.value.message_dict == {"expires_at": ["A waiver must expire in the future."]}

    waiver = waiver_create(policy=policy, product=product, reason="late", expires_at=tomorrow, actor=platform_user)
    assert waiver.is_active and waiver.created_by == platform_user
    assert AuditEvent.objects.filter(action="waiver.create", object_id=str(waiver.pk)).exists()
