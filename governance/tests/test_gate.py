"""The gate (PRODUCT §5): a release's ``full_clean()`` runs the applicable policies once, blocks on enabled error
failures with every reason, reports grace and deprecated ones as warnings, skips drafts and waived policies, needs
the adapter-ready check in every environment, and stores what it judged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import AuditEvent
from dataproducts.models import DataProductIdentity, Release
from governance.choices import Lifecycle
from governance.gate import gate_evaluate
from governance.models import Evaluation, Waiver
from governance.services import policy_save, waiver_create
from governance.tests.conftest import copied
from governance.tests.fake_engines import ScriptedEngine

pytestmark = pytest.mark.django_db

ENVIRONMENTS = ["development", "qa", "production"]


def release(identity, descriptors, version: str = "0.1-SNAPSHOT-1") -> Release:
    stable = "SNAPSHOT" not in version
    numbers = [int(part) for part in version.replace("-SNAPSHOT-", ".").split(".")]
    return Release(
        product=identity,
        version=version,
        kind="stable" if stable else "draft",
        major=numbers[0],
        minor=numbers[1],
        patch=numbers[2] if stable else None,
        snapshot=None if stable else numbers[2],
        descriptors=descriptors,
        commit="0" * 40,
    )


def refusal(instance) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        instance.full_clean()
    return caught.value.messages


def test_an_enabled_error_policy_that_fails_blocks_the_release_with_its_reason(make_policy, identity, descriptors):
    make_policy("no-failures", body="fail")

    messages = refusal(release(identity, descriptors))

    assert messages == ["no-failures (development) id: urn:dmb:dp:finance:cashflow:0 failed"]


def test_a_passing_release_is_saved_with_its_evaluations(make_policy, identity, descriptors):
    policy = make_policy("fine", body="pass")
    draft = release(identity, descriptors)

    draft.full_clean()
    draft.save()

    evaluation = Evaluation.objects.get()
    assert (evaluation.release, evaluation.product, evaluation.version) == (draft, identity, "0.1-SNAPSHOT-1")
    assert (evaluation.outcome, evaluation.environment, evaluation.blocking) == ("pass", "development", False)
    assert evaluation.policy_version == policy.versions.get()


@pytest.mark.parametrize("lifecycle", [Lifecycle.GRACE, Lifecycle.DEPRECATED])
def test_grace_and_deprecated_policies_report_errors_as_warnings(make_policy, identity, descriptors, lifecycle):
    make_policy("soon", body="fail", lifecycle=lifecycle)
    draft = release(identity, descriptors)

    draft.full_clean()
    draft.save()

    evaluation = Evaluation.objects.get()
    assert (evaluation.outcome, evaluation.severity, evaluation.blocking) == ("fail", "warning", False)
    assert evaluation.messages == [
        {"path": "id", "message": "urn:dmb:dp:finance:cashflow:0 failed", "severity": "warning"}
    ]


def test_a_warning_policy_that_fails_does_not_block(make_policy, identity, descriptors):
    make_policy("advice", body="fail", severity="warning")

    release(identity, descriptors).full_clean()


def test_draft_policies_never_run_on_the_gate(make_policy, identity, descriptors):
    make_policy("not-yet", body="fail", lifecycle=Lifecycle.DRAFT)

    release(identity, descriptors).full_clean()

    assert ScriptedEngine.calls == []


def test_an_engine_that_cannot_judge_blocks_rather_than_passes(make_policy, identity, descriptors):
    make_policy("remote-ish", body="error")
    make_policy("buggy", body="boom")

    messages = refusal(release(identity, descriptors))

    assert messages == [
        "buggy (development): the scripted engine failed: kaboom",
        "remote-ish (development): could not judge",
    ]


def test_a_draft_runs_the_first_environment_and_a_stable_release_every_one(make_policy, identity, descriptors):
    make_policy("everywhere", body="pass")

    release(identity, descriptors).full_clean()
    assert [context["environment"] for _, context, _ in ScriptedEngine.calls] == ["development"]

    ScriptedEngine.calls.clear()
    release(identity, descriptors, "0.1.0").full_clean()
    assert [context["environment"] for _, context, _ in ScriptedEngine.calls] == ENVIRONMENTS


def test_every_reason_of_every_environment_is_listed(make_policy, identity, descriptors):
    make_policy("a-rule", body="fail")
    make_policy("qa-only", body="fail", environments=["qa"])

    messages = refusal(release(identity, descriptors, "0.1.0"))

    assert messages == [
        "a-rule (development) id: urn:dmb:dp:finance:cashflow:0 failed",
        "a-rule (qa) id: urn:dmb:dp:finance:cashflow:0 failed",
        "qa-only (qa) id: urn:dmb:dp:finance:cashflow:0 failed",
        "a-rule (production) id: urn:dmb:dp:finance:cashflow:0 failed",
    ]


def test_the_gate_evaluates_once_however_often_full_clean_runs(make_policy, identity, descriptors):
    make_policy("once", body="pass")
    draft = release(identity, descriptors)

    draft.full_clean()
    draft.full_clean()
    draft.save()

    assert len(ScriptedEngine.calls) == 1
    assert Evaluation.objects.count() == 1


def test_the_descriptor_is_judged_with_the_release_version(make_policy, identity, descriptors):
    make_policy("versioned", engine="jsonschema", body='{"properties": {"version": {"const": "0.1.0"}}}')

    release(identity, descriptors, "0.1.0").full_clean()
    assert refusal(release(identity, descriptors, "0.2.0")) == [
        f'versioned ({environment}) version: "0.2.0" is not allowed; expected "0.1.0"' for environment in ENVIRONMENTS
    ]


def test_a_component_policy_judges_each_selected_component(make_policy, identity, descriptors):
    make_policy(
        "typed-ports",
        engine="jsonschema",
        body='{"properties": {"component": {"required": ["dataContract"]}}}',
        selector={"resource": "outputport"},
    )
    broken = copied(descriptors)
    del broken["development"]["components"][0]["dataContract"]

    messages = refusal(release(identity, broken))

    assert any(
        message.startswith("typed-ports (development, urn:dmb:cmp:finance:cashflow:0:daily-balances) component:")
        for message in messages
    )


def test_the_adapter_ready_check_blocks_in_every_environment(make_policy, identity, descriptors):
    broken = copied(descriptors)
    del broken["qa"]["components"][0]["semanticLinking"]

    draft = refusal(release(identity, broken))  # its policies run for development only, the check everywhere
    stable = refusal(release(identity, broken, "0.1.0"))

    assert len(draft) == len(stable) == 1
    assert draft[0].startswith("adapter-ready (qa) components[0]") and stable == draft


def test_an_unexpired_waiver_exempts_the_product_and_an_expired_one_does_not(
    make_policy, identity, descriptors, platform_user
):
    policy = make_policy("strict", body="fail")
    waiver = waiver_create(
        policy=policy,
        product=identity,
        reason="migration under way",
        expires_at=timezone.now() + timedelta(days=1),
        actor=platform_user,
    )

    result = gate_evaluate(
        product_identity=identity, descriptors=descriptors, environments=["development"], version="0.1-SNAPSHOT-1"
    )
    assert not result.blocks and result.runs == []
    assert result.notes[0].startswith("strict (development): waived until ")

    Waiver.objects.filter(pk=waiver.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert refusal(release(identity, descriptors)) == ["strict (development) id: urn:dmb:dp:finance:cashflow:0 failed"]


def test_a_waiver_of_another_product_changes_nothing(make_policy, identity, descriptors, platform_user):
    policy = make_policy("strict", body="fail")
    other = DataProductIdentity.objects.create(dp_id="urn:dmb:dp:finance:other:0", entity_name="finance.other.0")
    waiver_create(
        policy=policy, product=other, reason="x", expires_at=timezone.now() + timedelta(days=1), actor=platform_user
    )

    assert refusal(release(identity, descriptors))


def test_the_previous_stable_release_of_the_same_major_is_the_previous_descriptor(make_policy, identity, descriptors):
    first = release(identity, descriptors, "0.1.0")
    first.save()  # no policies yet
    old_major = release(identity, {"development": {"id": "x"}}, "1.0.0")
    old_major.major = 1
    old_major.save()
    make_policy("compare", body="pass")

    release(identity, descriptors, "0.2-SNAPSHOT-1").full_clean()

    [(_, _, previous)] = ScriptedEngine.calls
    assert previous == descriptors["development"]


def test_editing_a_policy_keeps_past_evaluations_on_the_version_they_ran(
    make_policy, identity, descriptors, platform_user
):
    policy = make_policy("evolving", body="pass")
    draft = release(identity, descriptors)
    draft.full_clean()
    draft.save()

    policy.body = "warn"
    policy_save(policy=policy, actor=platform_user)

    evaluation = Evaluation.objects.get()
    assert evaluation.policy_version.number == 1 and evaluation.policy_version.body == "pass"
    assert policy.versions.count() == 2


def test_a_release_saved_when_a_policy_blocks_is_not_possible_through_full_clean(make_policy, identity, descriptors):
    make_policy("no", body="fail")
    draft = release(identity, descriptors)

    with pytest.raises(ValidationError):
        draft.full_clean()

    assert not Release.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="release").exists()


@pytest.mark.django_db(transaction=True)
def test_blocking_evaluations_survive_the_refusal(make_policy, identity, descriptors):
    make_policy("no", body="fail")
    make_policy("yes", body="pass")

    refusal(release(identity, descriptors))

    evaluation = Evaluation.objects.get()
    assert (evaluation.policy_version.name, evaluation.blocking, evaluation.release) == ("no", True, None)
    assert evaluation.version == "0.1-SNAPSHOT-1"


def test_a_policy_saved_while_the_gate_runs_it_is_not_the_version_recorded(
    make_policy, identity, descriptors, platform_user, monkeypatch
):
    """The version recorded is the one read before the run, not the newest when the run ends."""
    from governance import gate

    policy = make_policy("evolving", body="pass")
    run = gate.policies_run

    def run_then_edit(**kwargs):
        found = run(**kwargs)
        policy.body = "warn"
        policy_save(policy=policy, actor=platform_user)  # someone saves it meanwhile
        return found

    monkeypatch.setattr(gate, "policies_run", run_then_edit)
    draft = release(identity, descriptors)
    draft.full_clean()
    draft.save()

    assert Evaluation.objects.get().policy_version.number == 1


def test_a_draft_renumbered_under_its_lock_records_its_final_version(make_policy, identity, descriptors):
    make_policy("checked", body="pass")
    draft = release(identity, descriptors)
    draft.full_clean()  # gated as 0.1-SNAPSHOT-1
    draft.version, draft.snapshot = "0.1-SNAPSHOT-2", 2  # a concurrent draft took N: the service moves to N+1
    draft.save()

    assert list(Evaluation.objects.values_list("version", flat=True)) == ["0.1-SNAPSHOT-2"]
