"""Governance's reads: which policies apply to what (lifecycle, environments, timing, selector, waivers), the
resources a policy judges in a descriptor, and the stored evaluations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from governance.choices import DATA_PRODUCT_RESOURCE, Lifecycle
from governance.models import Evaluation, Policy, PolicyVersion, Waiver


@dataclass(frozen=True)
class PolicyResource:
    """One thing a policy judges: the resource (the descriptor, or ``{dataProduct, component}``), the same
    resource in the previous descriptor (None when there is none) and the context engines receive."""

    resource: dict
    previous: dict | None
    context: dict

    @property
    def id(self) -> str:
        return self.context["id"]

    @property
    def kind(self) -> str:
        return self.context["kind"]


def _matches(wanted: object, value: object, *, versioned: bool = False) -> bool:
    """A selector value (a string or a list of them) against a descriptor value, case-insensitively. A
    ``versioned`` id (a template id ``urn:…:name:1.0.0``) also matches the selector without its version."""
    if not isinstance(value, str):
        return False
    value = value.lower()
    for item in wanted if isinstance(wanted, list) else [wanted]:
        item = str(item).lower()
        if value == item or (versioned and value.startswith(item + ":")):
            return True
        if not versioned and value.rsplit(":", 1)[-1] == item:  # domain "finance" matches urn:dmb:dmn:finance
            return True
    return False


def selector_matches_product(selector: dict, descriptor: dict) -> bool:
    """The data-product part of a selector (maturity, domain) against the product's descriptor."""
    for key in ("maturity", "domain"):
        if key in selector and not _matches(selector[key], descriptor.get(key)):
            return False
    return True


def _matches_templates(selector: dict, item: dict) -> bool:
    for key in ("useCaseTemplateId", "infrastructureTemplateId"):
        if key in selector and not _matches(selector[key], item.get(key), versioned=True):
            return False
    return True


def policy_resources(
    *, selector: dict, descriptor: dict, previous: dict | None, environment: str
) -> list[PolicyResource]:
    """The resources a policy with ``selector`` judges in one environment's descriptor: the descriptor itself for
    a data-product policy; ``{dataProduct, component}`` once per component of the selected kind otherwise."""
    if not isinstance(descriptor, dict) or not selector_matches_product(selector, descriptor):
        return []
    previous = previous if isinstance(previous, dict) else None
    kind = selector.get("resource", DATA_PRODUCT_RESOURCE)
    if kind == DATA_PRODUCT_RESOURCE:
        if not _matches_templates(selector, descriptor):
            return []
        context = {"id": str(descriptor.get("id", "")), "kind": kind, "environment": environment}
        return [PolicyResource(resource=descriptor, previous=previous, context=context)]
    previous_components = {
        component.get("id"): component
        for component in (previous or {}).get("components") or []
        if isinstance(component, dict)
    }
    found = []
    for component in descriptor.get("components") or []:
        if not isinstance(component, dict) or str(component.get("kind", "")).lower() != kind:
            continue
        if not _matches_templates(selector, component):
            continue
        before = previous_components.get(component.get("id"))
        found.append(
            PolicyResource(
                resource={"dataProduct": descriptor, "component": component},
                previous={"dataProduct": previous, "component": before} if before is not None else None,
                context={"id": str(component.get("id", "")), "kind": kind, "environment": environment},
            )
        )
    return found


def policy_applies(policy: Policy, *, environment: str, timing: str, for_gate: bool = True) -> bool:
    """Lifecycle, environments and timing of a policy (saved or not): a ``draft`` never runs on the gate (the
    test bench runs it, ``for_gate=False``)."""
    if for_gate and policy.lifecycle == Lifecycle.DRAFT:
        return False
    if policy.environments and environment not in policy.environments:
        return False
    return timing in (policy.timing or [])


def policies_applicable(
    *,
    environment: str,
    timing: str,
    for_gate: bool = True,
    descriptor: dict | None = None,
    policies: Iterable[Policy] | None = None,
) -> list[Policy]:
    """The policies that run in ``environment`` at ``timing``: the stored ones (or ``policies``, such as those of
    policy files), by lifecycle, environments and timing, and with a ``descriptor`` only those whose selector
    finds a resource in it. Waivers are not applied here (see :func:`waivers_active`)."""
    if policies is None:
        query = Policy.objects.filter(Q(environments=[]) | Q(environments__contains=[environment]))
        query = query.filter(timing__contains=[timing])
        if for_gate:
            query = query.exclude(lifecycle=Lifecycle.DRAFT)
        policies = query.order_by("name")
    found = []
    for policy in policies:
        if not policy_applies(policy, environment=environment, timing=timing, for_gate=for_gate):
            continue
        if descriptor is not None and not policy_resources(
            selector=policy.selector, descriptor=descriptor, previous=None, environment=environment
        ):
            continue
        found.append(policy)
    return found


def waivers_active(*, product, policies: Iterable[Policy] | None = None) -> dict[int, Waiver]:
    """The unexpired waivers of a data product identity by policy id (the one expiring last when there are
    several)."""
    if product is None or product.pk is None:
        return {}
    query = Waiver.objects.filter(product=product, expires_at__gt=timezone.now()).order_by("expires_at")
    if policies is not None:
        query = query.filter(policy__in=[policy.pk for policy in policies if policy.pk is not None])
    return {waiver.policy_id: waiver for waiver in query}


def policy_versions_current(policies: Iterable[Policy]) -> dict[int, PolicyVersion]:
    """The latest version of each saved policy, by policy id."""
    ids = [policy.pk for policy in policies if policy.pk is not None]
    if not ids:
        return {}
    query = PolicyVersion.objects.filter(policy__in=ids).order_by("policy_id", "-number").distinct("policy_id")
    return {version.policy_id: version for version in query}


def policy_list() -> QuerySet[Policy]:
    return Policy.objects.all()


def policy_get(*, name: str) -> Policy | None:
    return Policy.objects.filter(name=name).first()


def evaluation_list() -> QuerySet[Evaluation]:
    return Evaluation.objects.select_related("policy_version", "product", "release")
