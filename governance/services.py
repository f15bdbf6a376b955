"""Governance's writes: policies saved with a new immutable version and an audit event each time, lifecycle
moves, waivers; and the runs that change nothing (the test bench, a descriptor evaluated for a CI pipeline) or
only record (the runtime schedule)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from core.services import audit_record
from dataproducts.choices import ReleaseKind
from dataproducts.models import Component, DataProduct, DataProductIdentity, Release
from dataproducts.selectors import dataproduct_descriptor
from governance.choices import BenchStatus, EvaluationTiming, Lifecycle, Timing
from governance.gate import PolicyRun, evaluation_from_run, policies_run, policy_run_many
from governance.models import POLICY_FIELDS, BenchRun, Evaluation, Policy, PolicyVersion, Waiver
from governance.selectors import (
    PolicyResource,
    policies_applicable,
    policy_resources,
    policy_versions_current,
)


def _username(actor) -> str:
    return actor.get_username() if actor is not None and getattr(actor, "is_authenticated", False) else "system"


@transaction.atomic
def policy_save(*, policy: Policy, actor) -> Policy:
    """Validate (the engine checks the body) and save a policy; a change makes a new :class:`PolicyVersion` and
    an audit event, saving it unchanged makes neither."""
    policy.full_clean()
    if policy.pk is not None:  # one save of a policy at a time: two would number the same version
        Policy.objects.select_for_update().filter(pk=policy.pk).first()
    last = policy.versions.order_by("-number").first() if policy.pk is not None else None
    before = {name: getattr(last, name) for name in POLICY_FIELDS} if last is not None else None
    after = policy.snapshot()
    if before == after:
        return policy
    created = policy.pk is None
    policy.save()
    PolicyVersion.objects.create(
        policy=policy,
        number=(last.number if last is not None else 0) + 1,
        created_by=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        created_by_name=_username(actor),
        **after,
    )
    audit_record(
        actor=actor, action="policy.create" if created else "policy.change", obj=policy, before=before, after=after
    )
    return policy


def policy_lifecycle_set(*, policy: Policy, lifecycle: Lifecycle, actor) -> Policy:
    """Move a policy to grace, enable or deprecate it: a save like any other (a version, an audit event)."""
    policy.lifecycle = lifecycle
    return policy_save(policy=policy, actor=actor)


@transaction.atomic
def policy_delete(*, policy: Policy, actor) -> None:
    """Delete a policy that never judged anything (evaluations protect their policy version)."""
    audit_record(actor=actor, action="policy.delete", obj=policy, before=policy.snapshot())
    policy.delete()


def _waiver_snapshot(waiver: Waiver) -> dict:
    return {
        "policy": waiver.policy.name,
        "product": waiver.product.dp_id,
        "reason": waiver.reason,
        "expires_at": waiver.expires_at.isoformat(),
    }


@transaction.atomic
def waiver_create(*, policy: Policy, product: DataProductIdentity, reason: str, expires_at: datetime, actor) -> Waiver:
    """Exempt one data product from one policy until ``expires_at`` (in the future), with a reason."""
    waiver = Waiver(policy=policy, product=product, reason=reason, expires_at=expires_at)
    return waiver_save(waiver=waiver, actor=actor)


@transaction.atomic
def waiver_save(*, waiver: Waiver, actor) -> Waiver:
    created = waiver.pk is None
    before = _waiver_snapshot(Waiver.objects.get(pk=waiver.pk)) if not created else None
    waiver.full_clean()
    if created:
        waiver.created_by = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
        waiver.created_by_name = _username(actor)
    waiver.save()
    audit_record(
        actor=actor,
        action="waiver.create" if created else "waiver.change",
        obj=waiver,
        before=before,
        after=_waiver_snapshot(waiver),
    )
    return waiver


@transaction.atomic
def waiver_delete(*, waiver: Waiver, actor) -> None:
    audit_record(actor=actor, action="waiver.delete", obj=waiver, before=_waiver_snapshot(waiver))
    waiver.delete()


# --- Runs that change nothing ---------------------------------------------------------------------------------


def descriptor_evaluate(
    *,
    descriptor: dict,
    environment: str,
    policies: Iterable[Policy] | None = None,
    previous: dict | None = None,
    timing: str = Timing.DEPLOYMENT,
    for_gate: bool = True,
) -> list[PolicyRun]:
    """The applicable policies (the stored ones, or ``policies``) against a descriptor, as the gate would judge
    them, storing nothing: what ``POST /api/governance/evaluate`` and ``governance_evaluate`` answer."""
    applicable = policies_applicable(
        environment=environment,
        timing=timing,
        for_gate=for_gate,
        descriptor=descriptor,
        policies=list(policies) if policies is not None else None,
    )
    return policies_run(
        policies=applicable, descriptor=descriptor, previous=previous, environment=environment, for_gate=for_gate
    )


@dataclass
class BenchRow:
    """The test bench's verdict on one data product: ``outcome`` pass, fail, error, or ``n/a`` when the policy's
    selector finds nothing in it (or it has no release to read)."""

    product: str
    outcome: str
    runs: list[PolicyRun] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        return [reason for run in self.runs for reason in run.reasons()]


BENCH_SOURCES = ("working", "release")
NOT_APPLICABLE = "n/a"


def _last_stable(releases: Sequence[Release], major: int, *, before: Release | None = None) -> Release | None:
    """``dataproducts.selectors.release_last_stable`` over releases read already (the bench reads every product's
    at once), the same order."""
    stable = [
        release
        for release in releases
        if release.kind == ReleaseKind.STABLE and release.major == major and release is not before
    ]
    return max(stable, key=lambda release: (release.minor, release.patch or 0, release.pk), default=None)


def bench_run(
    *,
    policy: Policy,
    products: Iterable[DataProduct] | None = None,
    source: str = "working",
    environment: str | None = None,
) -> list[BenchRow]:
    """A policy (saved or not, any lifecycle) against every data product (or ``products``), changing nothing:
    each product's working copy (its descriptor as the catalog has it now) or its latest release, in
    ``environment`` (default: the policy's first environment, else the first of the platform)."""
    if source not in BENCH_SOURCES:
        raise ValueError(f"source: expected one of {', '.join(BENCH_SOURCES)}, got {source!r}")
    environment = environment or (policy.environments or settings.MESHFORGE_ENVIRONMENTS)[0]
    if products is None:
        products = bench_products()
    products = list(products)
    identities = DataProductIdentity.objects.filter(dp_id__in=[product.dp_id for product in products])
    releases: dict[str, list[Release]] = {}
    for release in Release.objects.filter(product__in=identities).select_related("product"):
        releases.setdefault(release.product.dp_id, []).append(release)
    items: list[PolicyResource] = []
    owners: list[str] = []
    rows: dict[str, BenchRow] = {}
    for product in products:
        rows[product.name] = BenchRow(product=product.name, outcome=NOT_APPLICABLE)
        history = releases.get(product.dp_id, [])
        if source == "working":
            descriptor = dataproduct_descriptor(data_product=product, environment=environment).descriptor
            last = _last_stable(history, product.major)
        else:
            latest = max(history, key=lambda release: (release.created_at, release.pk), default=None)
            if latest is None:
                continue
            descriptor = latest.descriptors.get(environment)
            last = _last_stable(history, latest.major, before=latest)
        previous = last.descriptors.get(environment) if last is not None else None
        found = policy_resources(
            selector=policy.selector, descriptor=descriptor, previous=previous, environment=environment
        )
        items += found
        owners += [product.name] * len(found)
    for owner, run in zip(owners, policy_run_many(policy, items, for_gate=False), strict=True):
        rows[owner].runs.append(run)
    for row in rows.values():
        if row.runs:
            outcomes = {run.outcome for run in row.runs}
            row.outcome = "error" if "error" in outcomes else "fail" if "fail" in outcomes else "pass"
    return list(rows.values())


BENCH_AT_ONCE = 50  # a bench of at most this many data products answers in the request; more go to the worker
BENCH_CHUNK = 100  # data products per engine call of a queued bench (its progress moves per chunk)


def bench_products(*, product: str = ""):
    """The data products a bench judges: every one, or the one named (entity name)."""
    # with what a descriptor reads (each entity's location: Git or not), so assembling 1,000 costs no query each
    query = (
        DataProduct.objects.select_related("entity__location")
        .prefetch_related(Prefetch("components", Component.objects.select_related("entity__location")))
        .order_by("name")
    )
    return query.filter(name=product) if product else query


def bench_environments(policy: Policy, environment: str = "") -> list[str]:
    """The environment asked for, or every environment the policy runs in."""
    if environment:
        return [environment]
    return [name for name in settings.MESHFORGE_ENVIRONMENTS if not policy.environments or name in policy.environments]


def bench_table(
    *, policy: Policy, products: Sequence[DataProduct], source: str, environments: Sequence[str]
) -> list[dict]:
    """The bench's result table: one row per data product x environment, ``{product, environment, outcome,
    messages}`` (plain data: a queued run stores it as JSON)."""
    rows = []
    for environment in environments:
        for row in bench_run(policy=policy, products=products, source=source, environment=environment):
            rows.append(
                {"product": row.product, "environment": environment, "outcome": row.outcome, "messages": row.messages}
            )
    return sorted(rows, key=lambda row: (row["product"], list(environments).index(row["environment"])))


@transaction.atomic
def bench_queue(*, policy: Policy, saved: bool, source: str, environments: Sequence[str], product: str, actor):
    """A bench too large to answer at once, queued for the worker: the policy's fields as tried are kept on the
    :class:`BenchRun`, which the page polls for progress."""
    if source not in BENCH_SOURCES:
        raise ValueError(f"source: expected one of {', '.join(BENCH_SOURCES)}, got {source!r}")
    run = BenchRun.objects.create(
        policy=policy if policy.pk is not None else None,
        snapshot=policy.snapshot(),
        saved=saved,
        source=source,
        environments=list(environments),
        product=product,
        total=bench_products(product=product).count(),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    from governance.tasks import bench_run as bench_task

    transaction.on_commit(lambda: bench_task.delay(run.pk))
    return run


def bench_run_execute(*, run_id: int) -> BenchRun | None:
    """Run a queued bench (the worker's task): move it from queued to running (once, whoever else tries), judge
    the products chunk by chunk recording the progress, then store the table. Changes nothing but the run."""
    if not BenchRun.objects.filter(pk=run_id, status=BenchStatus.QUEUED).update(status=BenchStatus.RUNNING):
        return None
    run = BenchRun.objects.get(pk=run_id)
    policy = Policy(**run.snapshot)
    products = list(bench_products(product=run.product))
    results: list[dict] = []
    try:
        for start in range(0, len(products), BENCH_CHUNK):
            chunk = products[start : start + BENCH_CHUNK]
            results += bench_table(policy=policy, products=chunk, source=run.source, environments=run.environments)
            BenchRun.objects.filter(pk=run_id).update(done=start + len(chunk), total=len(products))
    except Exception as exc:  # the page says why instead of polling forever
        BenchRun.objects.filter(pk=run_id).update(status=BenchStatus.FAILED, error=str(exc), finished_at=timezone.now())
        raise
    BenchRun.objects.filter(pk=run_id).update(
        status=BenchStatus.DONE, results=results, done=len(products), total=len(products), finished_at=timezone.now()
    )
    run.refresh_from_db()
    return run


# --- Runtime ---------------------------------------------------------------------------------------------------


def _runtime_targets(latest_stable: list[Release]) -> list[tuple[Release, str]]:
    """(release, environment) pairs to judge: the deployed release of each environment where a product runs; every
    environment of the latest stable release of a product that runs nowhere."""
    deployed: dict = {}
    if apps.is_installed("provisioning"):
        from provisioning.selectors import deployed_releases

        deployed = deployed_releases()
    running = {product_id for product_id, _ in deployed}
    targets = [(release, environment) for (_, environment), release in deployed.items()]
    for release in latest_stable:
        if release.product_id not in running:
            targets += [(release, environment) for environment in settings.MESHFORGE_ENVIRONMENTS]
    return targets


def runtime_evaluate() -> int:
    """Re-evaluate the ``runtime`` policies against what each environment runs — the release provisioning deployed
    there; for a product never deployed anywhere, its latest stable release — recording the Evaluations (nothing
    blocks). Returns how many were recorded.

    A fixed number of queries and one engine call per policy, however many products: the latest stable release of
    each product in one query (PostgreSQL's DISTINCT ON), the runtime policies, their versions and the waivers in
    force once each, then each policy against all its resources at once (one Rego process, not one per product)."""
    releases = list(
        Release.objects.filter(kind=ReleaseKind.STABLE)
        .select_related("product")
        .order_by("product_id", "-major", "-minor", "-patch", "-pk")
        .distinct("product_id")
    )
    stored = list(Policy.objects.filter(timing__contains=[Timing.RUNTIME]).exclude(lifecycle=Lifecycle.DRAFT))
    versions = policy_versions_current(stored)
    waived = {
        (waiver.product_id, waiver.policy_id)
        for waiver in Waiver.objects.filter(expires_at__gt=timezone.now(), policy__in=stored)
    }
    work: dict[int, tuple[Policy, list, list]] = {}  # policy id → (policy, resources, their releases)
    for release, environment in _runtime_targets(releases):
        descriptor = release.descriptors.get(environment)
        if not isinstance(descriptor, dict):
            continue
        for policy in policies_applicable(
            environment=environment, timing=Timing.RUNTIME, descriptor=descriptor, policies=stored
        ):
            if (release.product_id, policy.pk) in waived or policy.pk not in versions:
                continue
            items = policy_resources(
                selector=policy.selector, descriptor=descriptor, previous=None, environment=environment
            )
            _, resources, owners = work.setdefault(policy.pk, (policy, [], []))
            resources += items
            owners += [release] * len(items)
    recorded: list[Evaluation] = []
    for policy, resources, owners in work.values():
        for run, release in zip(policy_run_many(policy, resources, for_gate=False), owners, strict=True):
            evaluation = evaluation_from_run(
                run,
                product=release.product,
                version=release.version,
                policy_version=versions[policy.pk],
                release=release,
                timing=EvaluationTiming.RUNTIME,
            )
            evaluation.blocking = False
            recorded.append(evaluation)
    Evaluation.objects.bulk_create(recorded)
    return len(recorded)
