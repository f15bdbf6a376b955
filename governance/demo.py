"""Governance's part of ``seed_demo`` (see ``core.demo``): the starter policies of ``starter_policies.yaml``,
saved through ``policy_save`` (a version and an audit event each) unless a policy of that name exists."""

from __future__ import annotations

from collections import Counter
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
    saved = [policy_save(policy=policy, actor=OPERATOR) for policy in starter_policies() if policy.name not in existing]
    lifecycles = Counter(policy.get_lifecycle_display().lower() for policy in saved)
    counts = ", ".join(f"{count} {lifecycle}" for lifecycle, count in sorted(lifecycles.items()))
    report(f"Starter governance policies loaded: {len(saved)} new" + (f" ({counts})" if counts else ""))
