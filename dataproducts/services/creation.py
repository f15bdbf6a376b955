"""Creating a data product from a template (PRODUCT §4.2). Git cannot join a database transaction, so creation
is a saga of steps with explicit undo: a reservation row claims the id, then repository → commit → location →
processing; a failure at any step removes what the earlier steps made (repository, location, entities,
reservation) and says which step failed. The steps are :data:`CREATION_STEPS`; tests may pass their own."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, connection, transaction

from catalog.choices import LocationType
from catalog.membership import location_vouches_for
from catalog.models import Entity, Location
from catalog.readers import InvalidTarget, validate_target
from catalog.refs import dp_urn, parse_ref
from catalog.selectors import entity_exists, entity_get, location_get, location_get_by_target
from catalog.services import location_register, location_unregister
from catalog.teams import team_may_write, team_of_ref
from core.services import OPERATOR, audit_record
from dataproducts.choices import ReservationState, TemplateType
from dataproducts.exceptions import CreationFailed, DataProductConflict, TemplateError, ValuesInvalid
from dataproducts.gitops.provider import RepositoryExists, author_of, git_provider, repository_label
from dataproducts.layout import CATALOG_FILE, ProductLayout, components_location
from dataproducts.models import DataProduct, DataProductReservation
from dataproducts.scaffold.pickers import PickerContext
from dataproducts.services.drafting import (
    INITIAL_VERSION,
    files_render,
    ref_name,
    rendered_entity_check,
    short_ref,
    slug_check,
    template_check,
    username_of,
    values_check,
)

logger = logging.getLogger(__name__)


@dataclass
class CreationPlan:
    entity_name: str
    id: str
    files: list[tuple[str, str]]
    repository_url: str
    folder: str = ""


@dataclass
class _DataProductDraft:
    domain: str
    name: str
    owner_ref: str
    entity_name: str
    id: str
    files: dict[str, str]
    url: str = ""
    mark: str = ""
    reservation: DataProductReservation | None = None
    location: Location | None = None
    steps_done: list[str] = field(default_factory=list)
    abandoned: bool = False  # the lock was lost mid-way: another attempt owns the clean-up

    @property
    def layout(self) -> ProductLayout:
        """A new product: its ``catalog-info.yaml`` at the root of its repository, on the default branch."""
        return ProductLayout(repository=self.url)


# One step of the saga: does its work on the draft as the actor, or raises (then the saga undoes everything).
CreationStep = Callable[[_DataProductDraft, object], None]


def _dataproduct_draft(*, template: Entity, values: object, actor) -> _DataProductDraft:
    template_check(template, kind="template", types=frozenset({TemplateType.DATAPRODUCT}))
    owner = values.get("owner") if isinstance(values, dict) else None
    if isinstance(owner, str) and team_of_ref(owner) and not team_may_write(owner_ref=owner, user=actor):
        raise PermissionDenied(f"you may create data products only for your own teams, not {owner}")
    values = values_check(template, values, context=PickerContext(user=actor))
    domain = ref_name(values["domain"], "domain", "domain")
    name = slug_check(values["name"])
    owner_key = parse_ref(values["owner"], default_kind="group").key
    if not entity_exists(ref=f"domain:default/{domain}"):
        raise ValuesInvalid({"domain": [f"domain {domain!r} does not exist in the catalog"]})
    entity_name = f"{domain}.{name}.0"
    identifier = dp_urn(domain, name, 0)
    owner = short_ref(owner_key)
    username = username_of(actor)
    meta = {
        "kind": TemplateType.DATAPRODUCT,
        "domain": domain,
        "name": name,
        "major": 0,
        "entity_name": entity_name,
        "id": identifier,
        "version": INITIAL_VERSION,
        "owner": owner,
        "owner_group": team_of_ref(owner_key),
        "user_ref": f"user:{username}",
        "username": username,
        "use_case_template_id": (template.spec.get("mesh") or {}).get("useCaseTemplateId", ""),
        "environments": list(settings.MESHFORGE_ENVIRONMENTS),
    }
    files = files_render(template, values, meta)
    rendered_entity_check(template, files[CATALOG_FILE], kind="system", name=entity_name)
    files[CATALOG_FILE] = files[CATALOG_FILE].rstrip("\n") + "\n" + components_location(entity_name)
    rendered_entity_check(template, files[CATALOG_FILE], kind="location", name=f"{entity_name}.components")
    return _DataProductDraft(
        domain=domain, name=name, owner_ref=owner_key, entity_name=entity_name, id=identifier, files=files
    )


def _system_ref(entity_name: str) -> str:
    return f"system:default/{entity_name}"


def _conflict_check(entity_name: str, identifier: str) -> None:
    """A data product that exists, or an entity of its name that the new repository would not take over, is a
    conflict. An entity from someone else's untrusted location is not: the product's own repository wins it
    (PRODUCT §3.2), so nobody can block a name by registering it first."""
    ref = _system_ref(entity_name)
    reservation = DataProductReservation.objects.filter(dp_id=identifier).first()
    unfinished = reservation is not None and reservation.state != ReservationState.CREATED
    if unfinished and _creation_running(identifier):
        raise DataProductConflict(f"data product {identifier} is being created")
    # otherwise a creation that died or gave up half way: what it left (up to a registered, processed location)
    # is removed by the next attempt, so it blocks nothing
    left = _location_left(reservation) if unfinished else None
    holder = entity_get(ref=ref)
    if holder is not None and left is not None and holder.location_id == left.pk:
        holder = None
    exists = DataProduct.objects.filter(dp_id=identifier)
    if left is not None:
        exists = exists.exclude(entity__location=left)
    if exists.exists() or (
        holder is not None and holder.location is not None and location_vouches_for(holder.location, ref)
    ):
        raise DataProductConflict(f"data product {identifier} already exists")
    if reservation is not None and reservation.state == ReservationState.CREATED:
        raise DataProductConflict(_created_before(reservation))


def dataproduct_name_conflict(*, domain_ref: str, name: str) -> str:
    """Why a new data product ``name`` in ``domain_ref`` cannot be created (it exists, is being created, or was
    created before), or ``""``: the wizard asks at its first step, so nobody fills every step to learn it at
    Create. Creating checks again under its reservation."""
    try:
        domain = ref_name(domain_ref, "domain", "domain")
    except ValuesInvalid:
        return ""
    try:
        _conflict_check(f"{domain}.{name}.0", dp_urn(domain, name, 0))
    except DataProductConflict as exc:
        return str(exc)
    return ""


def _created_before(reservation: DataProductReservation) -> str:
    return (
        f"data product {reservation.dp_id} was created before (repository "
        f"{repository_label(reservation.repository_url)}) and is no longer in the catalog; staff can remove its "
        "reservation in the admin to create it again"
    )


# --- the creation lock: who is creating a data product right now ----------------------------------------------
#
# A creating process holds a session-level PostgreSQL advisory lock keyed on the data product id from before its
# reservation exists until it has finished or undone everything. The database drops the lock with the connection,
# so a process that dies (killed, crashed, its machine gone) frees it at once: a retry that gets the lock while a
# reservation still says "creating" knows its creator is dead and cleans up after it, instead of waiting for a
# timeout. (Requires a session-pooled connection: a PgBouncer in transaction mode would hand the lock around.)

_LOCK_WAIT_SECONDS = 1.0  # how long a retry waits for the lock of a creator that has just died to be dropped


def creation_lock_key(identifier: str) -> int:
    """The advisory lock key of a data product's creation (a positive 63-bit number; ``pg_locks`` shows it as
    ``classid`` = the high and ``objid`` = the low 32 bits)."""
    digest = hashlib.sha256(f"dataproducts.create:{identifier}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _creation_lock_take(identifier: str, *, wait: float = 0.0) -> bool:
    deadline = time.monotonic() + wait
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [creation_lock_key(identifier)])
            if cursor.fetchone()[0]:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def _creation_lock_release(identifier: str) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [creation_lock_key(identifier)])
    except DatabaseError:  # the connection is gone, and the lock with it
        logger.warning("data product %s: could not release the creation lock", identifier, exc_info=True)


def _creation_lock_held(identifier: str) -> bool:
    """Whether this connection holds the creation lock (it is lost with the connection, should that break)."""
    key = creation_lock_key(identifier)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            " AND granted AND objsubid = 1 AND classid::bigint = %s AND objid::bigint = %s)",
            [key >> 32, key & 0xFFFFFFFF],
        )
        return cursor.fetchone()[0]


def _creation_running(identifier: str) -> bool:
    """Whether a live process is creating the data product: it holds the lock."""
    if not _creation_lock_take(identifier):
        return True
    _creation_lock_release(identifier)
    return False


def dataproduct_preview(*, template: Entity, values: object, actor) -> CreationPlan:
    """What creating would write (validated and rendered, nothing written)."""
    draft = _dataproduct_draft(template=template, values=values, actor=actor)
    _conflict_check(draft.entity_name, draft.id)
    return CreationPlan(
        entity_name=draft.entity_name,
        id=draft.id,
        files=sorted(draft.files.items()),
        repository_url=git_provider().repository_url(domain=draft.domain, name=draft.name),
    )


def dataproduct_create(
    *, template: Entity, values: object, actor, steps: Sequence[tuple[str, CreationStep]] | None = None
) -> DataProduct:
    """Create a data product from a template: reserve its id, render, create its repository, commit as the
    user, register the location and process it now; undo everything if a step fails (PRODUCT §4.2). ``steps``
    replaces :data:`CREATION_STEPS` (tests inject failures with it)."""
    draft = _dataproduct_draft(template=template, values=values, actor=actor)
    _conflict_check(draft.entity_name, draft.id)
    draft.reservation = _reserve(draft, actor=actor)  # from here on this process holds the creation lock
    try:
        try:
            for step, run in CREATION_STEPS if steps is None else steps:
                _still_ours(draft, step)
                try:
                    run(draft, actor)
                except (TemplateError, DataProductConflict, PermissionDenied, ValuesInvalid):
                    raise
                except Exception as exc:  # any failure of a step: undo, then say which step failed
                    logger.exception("data product %s: step %s failed", draft.id, step)
                    raise CreationFailed(step, _reason(exc)) from exc
                draft.steps_done.append(step)
        except BaseException:
            _creation_undo(draft)
            raise
    finally:
        _creation_lock_release(draft.id)
    return DataProduct.objects.select_related("entity").get(dp_id=draft.id)


def _reason(exc: Exception) -> str:
    return str(exc) or exc.__class__.__name__


def _reserve(draft: _DataProductDraft, *, actor) -> DataProductReservation:
    """Take the creation lock and the reservation row. A reservation left ``creating`` or ``failed`` by an earlier
    attempt whose process holds no lock any more is cleaned up first: its creator died or gave up half way."""
    if not _creation_lock_take(draft.id, wait=_LOCK_WAIT_SECONDS):
        raise DataProductConflict(f"data product {draft.id} is being created")
    try:
        left = DataProductReservation.objects.filter(dp_id=draft.id).first()
        if left is not None and left.state == ReservationState.CREATED:
            raise DataProductConflict(_created_before(left))
        if left is not None:
            logger.info("data product %s: removing what an attempt that died half way left", draft.id)
            if not _leftovers_remove(left):
                raise CreationFailed(
                    "reservation",
                    "what an earlier attempt left could not be removed (the server log says why); try again later",
                )
            left.delete()
        draft.mark = uuid.uuid4().hex
        # recorded before the repository exists (the URL is known in advance), so that whatever happens next,
        # the next attempt knows where to look; the mark tells what is ours there
        draft.url = git_provider().repository_url(domain=draft.domain, name=draft.name)
        try:
            with transaction.atomic():
                return DataProductReservation.objects.create(
                    dp_id=draft.id,
                    entity_name=draft.entity_name,
                    repository_url=draft.url,
                    mark=draft.mark,
                    created_by=actor if getattr(actor, "is_authenticated", False) else None,
                )
        except IntegrityError as exc:
            raise DataProductConflict(f"data product {draft.id} already exists or is being created") from exc
    except BaseException:
        _creation_lock_release(draft.id)
        raise


def _still_ours(draft: _DataProductDraft, step: str) -> None:
    """Before each step: this process still holds the lock and the reservation. Should its database connection
    have broken meanwhile, the lock went with it and another attempt may have taken over: then stop, touching
    nothing (what this attempt made carries its mark; the other attempt's clean-up removes exactly that)."""
    if _creation_lock_held(draft.id) and DataProductReservation.objects.filter(pk=draft.reservation.pk).exists():
        return
    draft.abandoned = True
    raise CreationFailed(step, "the creation lost its reservation (its database connection broke); try again")


def _step_repository(draft: _DataProductDraft, actor) -> None:
    try:
        url = git_provider().repository_create(domain=draft.domain, name=draft.name, mark=draft.mark)
    except RepositoryExists as exc:
        raise DataProductConflict(
            f"{exc}, and this creation did not make it; staff can remove it, or adopt it on its location's page "
            "once it is registered"
        ) from exc
    if url != draft.url:  # a provider that does not know its URLs in advance
        draft.url = url
        DataProductReservation.objects.filter(pk=draft.reservation.pk).update(repository_url=url)


def _step_commit(draft: _DataProductDraft, actor) -> None:
    git_provider().commit(
        url=draft.url,
        files=dict(draft.files),
        message=f"Create data product {draft.entity_name}",
        author=author_of(actor),
        branch=draft.layout.branch,
    )


def _step_location(draft: _DataProductDraft, actor) -> None:
    target = validate_target(LocationType.GIT, draft.layout.target)
    # the platform registers its own repository (a file:// URL only staff may name) on the creator's behalf,
    # recorded as the product's own repository: it wins the product's refs over anyone else's untrusted location
    owner = actor if getattr(actor, "is_authenticated", False) else None
    draft.location = location_register(
        type=LocationType.GIT, target=target, actor=OPERATOR, owner=owner, home=[_system_ref(draft.entity_name)]
    ).location


def _step_processing(draft: _DataProductDraft, actor) -> None:
    entity = entity_get(ref=_system_ref(draft.entity_name), include_orphans=True, located=True)
    if entity is None or not DataProduct.objects.filter(entity=entity).exists():
        errors = location_get(pk=draft.location.pk).errors if draft.location else []
        raise RuntimeError(f"the catalog did not produce {draft.entity_name}" + (f": {errors[0]}" if errors else ""))
    with transaction.atomic():
        DataProductReservation.objects.filter(pk=draft.reservation.pk).update(
            state=ReservationState.CREATED, repository_url=draft.url
        )
        audit_record(
            actor=actor,
            action="dataproduct.create",
            obj=entity.data_product,
            after={"id": draft.id, "repository": draft.url, "files": sorted(draft.files)},
        )


CREATION_STEPS: tuple[tuple[str, CreationStep], ...] = (
    ("repository", _step_repository),
    ("commit", _step_commit),
    ("location", _step_location),
    ("processing", _step_processing),
)


def _creation_undo(draft: _DataProductDraft) -> None:
    """Remove what the steps made, newest first. If the repository cannot be removed, the reservation stays as
    ``failed`` with its URL, so that the next attempt removes the leftovers before it starts."""
    if draft.reservation is None or draft.abandoned:
        return
    cleaned = _leftovers_remove(draft.reservation)
    reservations = DataProductReservation.objects.filter(pk=draft.reservation.pk)
    if cleaned:
        reservations.delete()
    else:
        reservations.update(state=ReservationState.FAILED, repository_url=draft.url)


def _leftovers_remove(reservation: DataProductReservation) -> bool:
    """Unregister the location of a creation's repository and delete the repository; True when nothing of it is
    left. Only what this reservation made goes: the location registered as the product's own repository, and the
    repository that carries the reservation's mark (reservations from before the mark recorded their URL only
    once the repository existed, so what is there is theirs)."""
    url = reservation.repository_url
    if not url:
        return True
    cleaned = True
    try:
        location = _location_left(reservation)
        if location is not None:
            location_unregister(location=location, actor=OPERATOR)
    except Exception:
        logger.exception("data product %s: cannot remove its location", reservation.dp_id)
        cleaned = False
    try:
        if not git_provider().repository_delete(url=url, mark=reservation.mark):
            logger.info("data product %s: the repository at %s is not this creation's: kept", reservation.dp_id, url)
    except Exception:
        logger.exception("data product %s: cannot remove its repository", reservation.dp_id)
        cleaned = False
    return cleaned


def _location_left(reservation: DataProductReservation) -> Location | None:
    """The location an unfinished creation registered for its repository, if it got that far: the one recorded as
    the product's own repository at the reservation's URL (reservations from before the mark: any there)."""
    if not reservation.repository_url:
        return None
    location = _location_of_url(reservation.repository_url)
    if location is None or (reservation.mark and _system_ref(reservation.entity_name) not in location.home_of):
        return None
    return location


def _location_of_url(url: str) -> Location | None:
    try:
        return location_get_by_target(type=LocationType.GIT, target=ProductLayout(repository=url).target)
    except InvalidTarget:
        return None
