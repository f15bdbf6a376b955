"""Governance's reads: which policies apply to what (lifecycle, environments, timing, selector, waivers), the
resources a policy judges in a descriptor, the stored evaluations, and what the pages show of them (the compliance
badge, the compliance matrix, a policy's history, a data product's results), each at a constant number of
queries."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from governance.choices import DATA_PRODUCT_RESOURCE, Lifecycle, PolicySeverity
from governance.engines import Outcome
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
    """Every policy, each with ``version_number``, the number of its current version (one query for the list)."""
    return Policy.objects.annotate(version_number=Max("versions__number")).order_by("name")


def policy_get(*, name: str) -> Policy | None:
    return Policy.objects.filter(name=name).first()


def evaluation_list() -> QuerySet[Evaluation]:
    return Evaluation.objects.select_related("policy_version", "product", "release")


# --- What the pages show ---------------------------------------------------------------------------------------
#
# "Latest" is the newest evaluation (gate or runtime) of each product x policy x environment x resource (a component
# policy judges each component of its kind). A latest evaluation *fails* when its outcome is fail or error at the
# error severity its lifecycle gave it (what blocks on the gate); an unexpired waiver of the product from the policy
# takes it out.

WAIVED = "waived"
NOT_EVALUATED = "not-evaluated"
CELL_OUTCOMES = (Outcome.PASS.value, Outcome.FAIL.value, Outcome.ERROR.value, WAIVED, NOT_EVALUATED)
CELL_LABELS = {
    Outcome.PASS.value: "Pass",
    Outcome.FAIL.value: "Fail",
    Outcome.ERROR.value: "Error",
    WAIVED: "Waived",
    NOT_EVALUATED: "Not evaluated",
}
LATEST_KEY = ("product_id", "policy_version__policy_id", "environment", "resource_id")


def evaluations_latest() -> QuerySet[Evaluation]:
    """The newest evaluation of each product x policy x environment x resource (one query, ``DISTINCT ON``)."""
    return Evaluation.objects.order_by(*LATEST_KEY, "-time", "-pk").distinct(*LATEST_KEY)


def _newer_exists() -> Exists:
    """Within a subquery on Evaluation: a newer evaluation of the same product, policy, environment and resource."""
    newer = Evaluation.objects.filter(
        product_id=OuterRef("product_id"),
        policy_version__policy_id=OuterRef("policy_version__policy_id"),
        environment=OuterRef("environment"),
        resource_id=OuterRef("resource_id"),
    ).filter(Q(time__gt=OuterRef("time")) | Q(time=OuterRef("time"), pk__gt=OuterRef("pk")))
    return Exists(newer)


def _waiver_exists(*, product: str = "product_id", policy: str = "policy_version__policy_id") -> Exists:
    return Exists(
        Waiver.objects.filter(product_id=OuterRef(product), policy_id=OuterRef(policy), expires_at__gt=timezone.now())
    )


def _latest_of_product(dp_id_ref: str = "dp_id") -> QuerySet[Evaluation]:
    """For a subquery on DataProduct: its latest evaluations that no waiver covers."""
    return Evaluation.objects.filter(product__dp_id=OuterRef(dp_id_ref)).filter(~_newer_exists(), ~_waiver_exists())


def _failing(query: QuerySet[Evaluation]) -> QuerySet[Evaluation]:
    """Blocking failures: errors of a policy that is enabled now (one moved back to draft, to grace or deprecated
    since it failed no longer makes a product fail)."""
    return query.filter(severity=PolicySeverity.ERROR, policy_version__policy__lifecycle=Lifecycle.ENABLED).exclude(
        outcome=Outcome.PASS
    )


def dataproducts_with_compliance(queryset: QuerySet) -> QuerySet:
    """Data products (a ``DataProduct`` queryset) annotated for the compliance badge, in the same query:
    ``governance_failing`` (a latest evaluation fails) and ``governance_evaluated`` (one exists)."""
    return queryset.annotate(
        governance_failing=Exists(_failing(_latest_of_product())),
        governance_evaluated=Exists(Evaluation.objects.filter(product__dp_id=OuterRef("dp_id"))),
    )


def compliance_of(*, dp_id: str) -> dict:
    """The badge of one data product: ``{"failing": bool, "evaluated": bool}`` (one query)."""
    latest = evaluations_latest().filter(product__dp_id=dp_id).annotate(waived=_waiver_exists())
    rows = list(latest.values_list("outcome", "severity", "waived", "policy_version__policy__lifecycle"))
    failing = any(
        outcome != Outcome.PASS and severity == PolicySeverity.ERROR and not waived and lifecycle == Lifecycle.ENABLED
        for outcome, severity, waived, lifecycle in rows
    )
    return {"failing": failing, "evaluated": bool(rows)}


def _worst(outcomes: Iterable[str]) -> str:
    outcomes = set(outcomes)
    for outcome in (Outcome.ERROR, Outcome.FAIL, Outcome.PASS):
        if outcome in outcomes:
            return outcome.value
    return NOT_EVALUATED


@dataclass
class PolicyRow:
    """A policy on the governance page: its pass rate over the latest evaluation of each product."""

    policy: Policy
    passed: int = 0
    evaluated: int = 0

    @property
    def pass_rate(self) -> int | None:
        return round(100 * self.passed / self.evaluated) if self.evaluated else None


def policy_rows() -> list[PolicyRow]:
    """Every policy with its pass rate: of the products it judged, how many passed their latest evaluation in
    every environment (two queries)."""
    rows = {policy.pk: PolicyRow(policy=policy) for policy in Policy.objects.order_by("name")}
    outcomes: dict[tuple[int, int], list[str]] = {}
    for product_id, policy_id, outcome in evaluations_latest().values_list(
        "product_id", "policy_version__policy_id", "outcome"
    ):
        outcomes.setdefault((policy_id, product_id), []).append(outcome)
    for (policy_id, _product_id), found in outcomes.items():
        row = rows[policy_id]
        row.evaluated += 1
        row.passed += _worst(found) == Outcome.PASS
    return list(rows.values())


def compliance_matrix_products(queryset: QuerySet, *, policies: list[Policy], outcome: str = "") -> QuerySet:
    """Data products (a ``DataProduct`` queryset) for the compliance matrix of ``policies`` (the enabled ones):
    those failing one of them first, then by name; with ``outcome`` only those with a cell of that outcome
    (pass, fail, error, waived, not-evaluated). The annotations ride on the products' own query."""
    ids = [policy.pk for policy in policies]
    latest = _latest_of_product().filter(policy_version__policy_id__in=ids)
    queryset = dataproducts_with_compliance(queryset).annotate(
        matrix_failing=Exists(latest.exclude(outcome=Outcome.PASS))
    )
    if outcome in (Outcome.PASS, Outcome.FAIL, Outcome.ERROR):
        queryset = queryset.filter(Exists(latest.filter(outcome=outcome)))
    elif outcome == WAIVED:
        queryset = queryset.filter(
            Exists(
                Waiver.objects.filter(
                    product__dp_id=OuterRef("dp_id"), policy_id__in=ids, expires_at__gt=timezone.now()
                )
            )
        )
    elif outcome == NOT_EVALUATED:
        judged = Evaluation.objects.filter(
            product__dp_id=OuterRef(OuterRef("dp_id")), policy_version__policy_id=OuterRef("pk")
        )
        queryset = queryset.filter(Exists(Policy.objects.filter(pk__in=ids).filter(~Exists(judged))))
    return queryset.order_by("-matrix_failing", "name")


@dataclass
class MatrixRow:
    product: object
    cells: list[dict] = field(default_factory=list)


def compliance_matrix(*, products: Iterable, policies: list[Policy]) -> list[MatrixRow]:
    """The cells of a page of data products x ``policies``: the worst latest outcome over environments and
    resources, ``waived`` while a waiver is in force, ``not-evaluated`` when none exists (two queries)."""
    products = list(products)
    dp_ids = [product.dp_id for product in products]
    ids = [policy.pk for policy in policies]
    outcomes: dict[tuple[str, int], list[str]] = {}
    latest = evaluations_latest().filter(product__dp_id__in=dp_ids, policy_version__policy_id__in=ids)
    for dp_id, policy_id, outcome in latest.values_list("product__dp_id", "policy_version__policy_id", "outcome"):
        outcomes.setdefault((dp_id, policy_id), []).append(outcome)
    waived = set(
        Waiver.objects.filter(product__dp_id__in=dp_ids, policy_id__in=ids, expires_at__gt=timezone.now()).values_list(
            "product__dp_id", "policy_id"
        )
    )
    rows = []
    for product in products:
        row = MatrixRow(product=product)
        for policy in policies:
            key = (product.dp_id, policy.pk)
            outcome = WAIVED if key in waived else _worst(outcomes.get(key, ()))
            row.cells.append({"policy": policy, "outcome": outcome, "label": CELL_LABELS[outcome]})
        rows.append(row)
    return rows


@dataclass
class VersionRow:
    version: PolicyVersion
    diff: list[str]


def policy_version_rows(*, policy: Policy) -> list[VersionRow]:
    """The versions of a policy, newest first, each with the unified diff of its body against the version before
    (one query)."""
    versions = list(policy.versions.order_by("number"))
    rows = []
    before = None
    for version in versions:
        diff = difflib.unified_diff(
            (before.body if before is not None else "").splitlines(),
            version.body.splitlines(),
            fromfile=f"v{before.number}" if before is not None else "(none)",
            tofile=f"v{version.number}",
            lineterm="",
        )
        rows.append(VersionRow(version=version, diff=list(diff)))
        before = version
    return rows[::-1]


def policy_evaluations_latest(*, policy: Policy, limit: int = 50) -> list[Evaluation]:
    """The latest evaluations of a policy (one per product x environment x resource), newest first (one query)."""
    latest = evaluations_latest().filter(policy_version__policy=policy).values("pk")
    query = Evaluation.objects.filter(pk__in=latest).select_related("policy_version", "product", "release")
    return list(query.order_by("-time", "-pk")[:limit])


def policy_waivers(*, policy: Policy) -> list[Waiver]:
    return list(policy.waivers.select_related("product"))


@dataclass
class EnvironmentResults:
    environment: str
    evaluations: list[Evaluation]


def dataproduct_governance(*, dp_id: str, environments: Iterable[str]) -> dict:
    """The Governance tab of a data product: its latest evaluations per environment (each marked ``waived`` when a
    waiver in force covers its policy), and the product's waivers in force (two queries)."""
    waivers = list(Waiver.objects.filter(product__dp_id=dp_id, expires_at__gt=timezone.now()).select_related("policy"))
    waived = {waiver.policy_id for waiver in waivers}
    latest = evaluations_latest().filter(product__dp_id=dp_id).select_related("policy_version__policy", "release")
    by_environment: dict[str, list[Evaluation]] = {}
    for evaluation in latest:
        evaluation.waived = evaluation.policy_version.policy_id in waived
        evaluation.failing = (
            evaluation.outcome != Outcome.PASS and evaluation.severity == PolicySeverity.ERROR and not evaluation.waived
        )
        by_environment.setdefault(evaluation.environment, []).append(evaluation)
    results = []
    for environment in [*environments, *sorted(set(by_environment) - set(environments))]:
        found = sorted(
            by_environment.get(environment, []), key=lambda e: (not e.failing, e.policy_version.name, e.resource_id)
        )
        results.append(EnvironmentResults(environment=environment, evaluations=found))
    evaluated = bool(by_environment)
    failing = any(e.failing for found in by_environment.values() for e in found)
    return {"results": results, "waivers": waivers, "compliance": {"failing": failing, "evaluated": evaluated}}
