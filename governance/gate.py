"""The gate (PRODUCT §5): one function, :func:`gate_evaluate`, that runs the applicable policies against a data
product's descriptors and says what blocks, and the ``post_clean`` receiver through which every path that
validates a ``dataproducts.Release`` (UI, API, admin, commands) meets it. ``dataproducts`` never imports this.

Policies reach their engines only through the registry (``governance.engines.engine_get``). An engine may call
out (the ``remote`` engine does), so callers run ``full_clean()`` *before* they take a row lock: the verdict is
cached on the instance and a second ``full_clean()`` under the lock evaluates nothing again."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from core.problems import Problem, Severity
from dataproducts.choices import ReleaseKind
from dataproducts.descriptor.adapter import descriptor_adapter_ready_problems
from governance.choices import EvaluationTiming, Lifecycle, PolicySeverity, Timing
from governance.engines import Outcome, Result, UnknownEngine, engine_get
from governance.models import Evaluation, Policy, Waiver
from governance.selectors import (
    PolicyResource,
    policies_applicable,
    policy_resources,
    policy_versions_current,
    waivers_active,
)

logger = logging.getLogger(__name__)

ADAPTER_READY = "adapter-ready"


def policy_effective_severity(policy: Policy) -> PolicySeverity:
    """A policy in ``grace`` or ``deprecated`` reports its errors as warnings."""
    if policy.lifecycle in (Lifecycle.GRACE, Lifecycle.DEPRECATED):
        return PolicySeverity.WARNING
    return PolicySeverity(policy.severity)


@dataclass(frozen=True)
class PolicyRun:
    """One policy judged against one resource in one environment, at the severity its lifecycle gives it."""

    policy: Policy
    environment: str
    resource_id: str
    resource_kind: str
    outcome: Outcome
    severity: PolicySeverity
    blocking: bool
    findings: tuple[Problem, ...]
    duration_ms: int

    @property
    def passed(self) -> bool:
        return self.outcome == Outcome.PASS

    def where(self) -> str:
        """``policy (environment)``, with the component's id for a component policy."""
        if self.resource_kind == "dataproduct":
            return f"{self.policy.name} ({self.environment})"
        return f"{self.policy.name} ({self.environment}, {self.resource_id})"

    def reasons(self) -> list[str]:
        """``policy (environment) path: message`` for each finding (or the outcome, when there is none)."""
        found = [
            f"{self.where()} {finding.path}: {finding.message}"
            if finding.path
            else f"{self.where()}: {finding.message}"
            for finding in self.findings
        ]
        return found or ([] if self.passed else [f"{self.where()}: {self.outcome.label.lower()}"])

    def messages(self) -> list[dict]:
        return [
            {"path": finding.path, "message": finding.message, "severity": str(finding.severity)}
            for finding in self.findings
        ]


def _evaluate(policy: Policy, items: Sequence[PolicyResource]) -> list[Result]:
    """The engine's results for every item, in order; never raises (an engine that cannot judge is ``ERROR``)."""
    try:
        engine = engine_get(policy.engine)
    except UnknownEngine as exc:
        return [Result.failed(str(exc.args[0]))] * len(items)
    triples = [(item.resource, item.previous, item.context) for item in items]
    try:
        many = getattr(engine, "evaluate_many", None)
        if many is not None:
            results = list(many(policy.body, triples))
        else:
            results = [
                engine.evaluate(policy.body, resource, previous, context=context)
                for resource, previous, context in triples
            ]
    except Exception as exc:  # an engine's bug must not let a resource pass
        logger.exception("governance engine %s failed on policy %s", policy.engine, policy.name)
        return [Result.failed(f"the {policy.engine} engine failed: {exc}")] * len(items)
    if len(results) != len(items):
        return [Result.failed(f"the {policy.engine} engine answered {len(results)} of {len(items)} resources")] * len(
            items
        )
    return results


def policy_run_many(policy: Policy, items: Sequence[PolicyResource], *, for_gate: bool = True) -> list[PolicyRun]:
    """Run one policy against many resources in one engine call (the bench's thousand products)."""
    if not items:
        return []
    started = time.perf_counter()
    results = _evaluate(policy, items)
    duration_ms = round((time.perf_counter() - started) * 1000 / len(items))
    severity = policy_effective_severity(policy)
    runs = []
    for item, result in zip(items, results, strict=True):
        findings = tuple(
            finding.with_severity(Severity.WARNING)
            if severity == PolicySeverity.WARNING and finding.severity == Severity.ERROR
            else finding
            for finding in result.findings
        )
        blocking = (
            for_gate
            and policy.lifecycle == Lifecycle.ENABLED
            and severity == PolicySeverity.ERROR
            and result.outcome != Outcome.PASS
        )
        runs.append(
            PolicyRun(
                policy=policy,
                environment=item.context["environment"],
                resource_id=item.id,
                resource_kind=item.kind,
                outcome=Outcome(result.outcome),
                severity=severity,
                blocking=blocking,
                findings=findings,
                duration_ms=duration_ms,
            )
        )
    return runs


def policies_run(
    *,
    policies: Iterable[Policy],
    descriptor: dict,
    previous: dict | None,
    environment: str,
    for_gate: bool = True,
) -> list[PolicyRun]:
    """Every policy against the resources its selector finds in one environment's descriptor."""
    runs = []
    for policy in policies:
        items = policy_resources(
            selector=policy.selector, descriptor=descriptor, previous=previous, environment=environment
        )
        runs += policy_run_many(policy, items, for_gate=for_gate)
    return runs


@dataclass
class GateResult:
    """What the gate found for one action: every policy run, the Evaluation rows to store (unsaved), the
    adapter-ready problems of each environment, and the waivers that exempted a policy."""

    runs: list[PolicyRun] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    adapter_problems: list[tuple[str, Problem]] = field(default_factory=list)
    waived: list[tuple[str, Waiver]] = field(default_factory=list)
    stored: bool = False

    @property
    def blocking(self) -> list[PolicyRun]:
        return [run for run in self.runs if run.blocking]

    @property
    def blocks(self) -> bool:
        return bool(self.blocking) or any(problem.is_error for _, problem in self.adapter_problems)

    @property
    def reasons(self) -> list[str]:
        """Every reason the action is refused: ``policy (environment) path: message``."""
        reasons = [
            f"{ADAPTER_READY} ({environment}) {problem.path}: {problem.message}"
            for environment, problem in self.adapter_problems
            if problem.is_error
        ]
        for run in self.blocking:
            reasons += run.reasons()
        return reasons

    @property
    def notes(self) -> list[str]:
        """What does not block: the waivers applied and the warnings."""
        notes = [
            f"{waiver.policy.name} ({environment}): waived until {waiver.expires_at:%Y-%m-%d %H:%M} ({waiver.reason})"
            for environment, waiver in self.waived
        ]
        for run in self.runs:
            if not run.blocking and not run.passed:
                notes += run.reasons()
        return notes

    @property
    def findings(self) -> list[Problem]:
        """Every finding as a Problem whose path names the policy and environment (``code``: the policy)."""
        found = [
            Problem(path=f"{ADAPTER_READY} ({environment}) {problem.path}", message=problem.message, code="adapter")
            for environment, problem in self.adapter_problems
        ]
        for run in self.runs:
            for finding in run.findings:
                found.append(
                    Problem(
                        path=f"{run.where()} {finding.path}".strip(),
                        message=finding.message,
                        severity=finding.severity,
                        code=run.policy.name,
                    )
                )
        return found

    @property
    def blocking_evaluations(self) -> list[Evaluation]:
        return [evaluation for evaluation in self.evaluations if evaluation.blocking]


def gate_evaluate(
    *,
    product_identity,
    descriptors: dict[str, dict],
    environments: Sequence[str],
    version: str,
    previous: dict[str, dict] | None = None,
    timing: str = Timing.DEPLOYMENT,
    adapter_ready: bool = True,
) -> GateResult:
    """Run the applicable policies (lifecycle, environments, timing, selector; waived ones left out) against the
    descriptor of each of ``environments``, and with ``adapter_ready`` the strict adapter-ready check of every
    environment in ``descriptors`` (a release must be deployable everywhere it describes). Reads the
    database and calls engines; writes nothing (the Evaluation rows it returns are unsaved)."""
    result = GateResult()
    previous = previous or {}
    versions: dict = {}
    if adapter_ready:  # every environment the release holds (a draft's policies run for the first one only)
        for environment in dict.fromkeys([*environments, *descriptors]):
            descriptor = descriptors.get(environment)
            if isinstance(descriptor, dict):
                result.adapter_problems += [
                    (environment, problem) for problem in descriptor_adapter_ready_problems(descriptor)
                ]
    for environment in environments:
        descriptor = descriptors.get(environment)
        if not isinstance(descriptor, dict):
            result.adapter_problems.append(
                (environment, Problem(path="", message="no descriptor for this environment", code="adapter"))
            )
            continue
        policies = policies_applicable(environment=environment, timing=timing, descriptor=descriptor)
        waivers = waivers_active(product=product_identity, policies=policies)
        result.waived += [(environment, waivers[policy.pk]) for policy in policies if policy.pk in waivers]
        policies = [policy for policy in policies if policy.pk not in waivers]
        # the versions of the policies as read, before they run: one saved meanwhile is not what ran
        versions |= policy_versions_current(policies)
        result.runs += policies_run(
            policies=policies, descriptor=descriptor, previous=previous.get(environment), environment=environment
        )
    result.evaluations = [
        evaluation_from_run(run, product=product_identity, version=version, policy_version=versions[run.policy.pk])
        for run in result.runs
        if run.policy.pk in versions
    ]
    return result


def evaluation_from_run(run: PolicyRun, *, product, version: str, policy_version, release=None, timing=None):
    """The (unsaved) Evaluation row of a policy run."""
    return Evaluation(
        policy_version=policy_version,
        product=product,
        release=release,
        version=version,
        environment=run.environment,
        resource_id=run.resource_id[:300],
        resource_kind=run.resource_kind,
        outcome=run.outcome,
        severity=run.severity,
        blocking=run.blocking,
        messages=run.messages(),
        duration_ms=run.duration_ms,
        timing=timing or EvaluationTiming.DEPLOYMENT,
    )


# --- Releases: the receivers connected in GovernanceConfig.ready() ----------------------------------------------


def release_environments(kind: str) -> list[str]:
    """A draft is checked for the first environment, a stable release for every one."""
    if kind == ReleaseKind.STABLE:
        return list(settings.MESHFORGE_ENVIRONMENTS)
    return list(settings.MESHFORGE_ENVIRONMENTS[:1])


def release_previous_descriptors(release) -> dict[str, dict] | None:
    """The descriptors of the last stable release of the same major (the gate judges a release being made, so
    that one is not among them)."""
    from dataproducts.selectors import release_last_stable

    last = release_last_stable(product=release.product, major=release.major)
    return last.descriptors if last is not None and last.pk != release.pk else None


def release_gate(sender, instance, **kwargs) -> None:
    """``post_clean`` of a Release being created: the gate, evaluated once per (version, kind, environments)
    however often ``full_clean()`` runs. Refusal stores the blocking evaluations in their own transaction (when
    the caller holds none) and raises every reason."""
    if not instance._state.adding or instance.product_id is None or not isinstance(instance.descriptors, dict):
        return
    environments = release_environments(instance.kind)
    key = (instance.version, instance.kind, tuple(environments))
    cached = getattr(instance, "_governance", None)
    if cached is not None and cached[0] == key:
        result = cached[1]
    else:
        descriptors = {
            environment: {**descriptor, "version": instance.version}
            for environment, descriptor in instance.descriptors.items()
            if isinstance(descriptor, dict)
        }
        result = gate_evaluate(
            product_identity=instance.product,
            descriptors=descriptors,
            environments=environments,
            version=instance.version,
            previous=release_previous_descriptors(instance),
        )
        instance._governance = (key, result)
    if not result.blocks:
        return
    if not result.stored and not connection.in_atomic_block:
        # refused, but on the record: a transaction of their own, which the refusal does not roll back
        with transaction.atomic():
            Evaluation.objects.bulk_create(result.blocking_evaluations)
        result.stored = True
    raise ValidationError(result.reasons)


# --- Deployments (provisioning): the receiver connected in GovernanceConfig.ready() -------------------------------


def deployment_gate(sender, instance, **kwargs) -> None:
    """``post_clean`` of a deployment request being checked: the applicable policies of its environment against
    its descriptor (``breaking_change`` against what the environment ran before), evaluated once per instance.
    Every evaluation is stored (the checks run in the worker, outside any transaction); blocking ones refuse."""
    subject = instance.gate_subject()
    if subject is None:
        return
    key = (subject["version"], subject["environment"])
    cached = getattr(instance, "_governance", None)
    if cached is not None and cached[0] == key:
        result = cached[1]
    else:
        environment = subject["environment"]
        result = gate_evaluate(
            product_identity=subject["product"],
            descriptors={environment: subject["descriptor"]},
            environments=[environment],
            version=subject["version"],
            previous={environment: subject["previous"]} if subject["previous"] else None,
            adapter_ready=False,  # provisioning runs the adapter-ready check itself, as one of its own checks
        )
        instance._governance = (key, result)
        instance.gate_warnings = result.notes
        for evaluation in result.evaluations:
            evaluation.release = subject["release"]
        with transaction.atomic():
            Evaluation.objects.bulk_create(result.evaluations)
        result.stored = True
    if result.blocks:
        raise ValidationError(result.reasons)


def release_evaluations_store(sender, instance, created: bool, **kwargs) -> None:
    """``post_save`` of a Release: the evaluations of the gate it passed, linked to it."""
    cached = getattr(instance, "_governance", None)
    if not created or cached is None or cached[1].stored or cached[1].blocks:
        return
    result = cached[1]
    for evaluation in result.evaluations:
        evaluation.release = instance
        evaluation.product_id = instance.product_id
        evaluation.version = instance.version  # a draft renumbered under its lock (a concurrent one took N) saves N+1
    Evaluation.objects.bulk_create(result.evaluations)
    result.stored = True
