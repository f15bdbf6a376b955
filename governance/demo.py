"""Governance's part of ``seed_demo`` (see ``core.demo``): the starter policies of ``starter_policies.yaml``,
saved through ``policy_save`` (a version and an audit event each) unless a policy of that name exists."""

from __future__ import annotations

from pathlib import Path

from core.demo import Report
from core.services import OPERATOR
from governance.models import Policy
from governance.policyfiles import policies_read
from governance.services import policy_save

STARTER_POLICIES = Path(__file__).with_name("starter_policies.yaml")


def starter_policies() -> list[Policy]:
    return policies_read(STARTER_POLICIES.read_bytes(), source=STARTER_POLICIES.name)


def demo_seed(*, report: Report) -> None:
    existing = set(Policy.objects.values_list("name", flat=True))
    for policy in starter_policies():
        if policy.name in existing:
            continue
        policy_save(policy=policy, actor=OPERATOR)
        report(f"policy {policy.name} ({policy.engine}, {policy.lifecycle})")
