"""Writes owned by the Builder (PRODUCT §4.1 to §4.2): creating data products and components from templates,
editing them through edit templates, removing components, and the platform's domains. Every write goes to Git
first and reaches the catalog through a location refresh; nothing here writes an entity row.

Git cannot join a database transaction, so creation is a sequence of steps with explicit undo: a reservation
row claims the id, then render → repository → commit → location → processing; a failure at any step removes
what the earlier steps made (repository folder, location, entities, reservation) and says which step failed."""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import io
import itertools
import logging
import posixpath
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, connection, transaction
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.scalarstring import ScalarString

from catalog.choices import LocationType
from catalog.membership import location_vouches_for
from catalog.models import Entity, Location
from catalog.readers import InvalidTarget, ReadError, parse_git_target, validate_target
from catalog.refs import RefError, component_urn, dp_urn, parse_ref
from catalog.selectors import entity_source_files, location_get_by_target
from catalog.services import CatalogConflict, entity_delete, location_refresh, location_register, location_unregister
from catalog.teams import team_may_write, team_of_ref
from catalog.validation import validate_entity
from core.services import OPERATOR, audit_record
from core.yaml import YamlError, dump, load, load_all
from dataproducts.choices import COMPONENT_TYPES, ReservationState, TemplateType
from dataproducts.exceptions import CreationFailed, DataProductConflict, StaleEdit, TemplateError, ValuesInvalid
from dataproducts.gitops.provider import (
    GitProviderError,
    HeadMoved,
    RepositoryExists,
    RepositoryNotWritable,
    author_of,
    git_provider,
    repository_label,
)
from dataproducts.models import Component, DataProduct, DataProductReservation, Domain
from dataproducts.rendering import IDENTITY_PATHS, TemplateRenderError, skeleton_render, template_problems
from dataproducts.schema_forms import PickerContext, values_validate
from dataproducts.selectors import (
    CONFIGURATIONS_FILE,
    ENVIRONMENTS_FOLDER,
    dataproduct_may_write,
    entity_file,
    entity_folder,
)

logger = logging.getLogger(__name__)

INITIAL_VERSION = "0.0.0"
CATALOG_FILE = "catalog-info.yaml"
COMPONENTS_FOLDER = "components"
_SLUG_RE = re.compile(r"[a-z][a-z0-9-]{1,38}[a-z0-9]")
_DOMAIN_RE = re.compile(r"[a-z][a-z0-9-]{0,61}[a-z0-9]")


@dataclass
class CreationPlan:
    entity_name: str
    id: str
    files: list[tuple[str, str]]
    repository_url: str
    folder: str = ""


# --- checks shared by creation and edits -----------------------------------------------------------------


def _template_check(template: Entity, *, kind: str, types: frozenset[str]) -> None:
    if template.kind.lower() != kind or template.location is None or not template.location.trusted:
        raise TemplateError(f"{template.ref} is not a {kind} from a trusted location")
    template_type = template.spec.get("type")
    if template_type not in types:
        raise TemplateError(f"template {template.name}: spec.type {template_type!r} cannot be used here")
    problems = template_problems(template.document)
    if problems:
        raise TemplateError(f"template {template.name}: {problems[0]}")


def _values_check(template: Entity, values: object, *, context: PickerContext) -> dict:
    if not isinstance(values, dict):
        raise ValuesInvalid({"": ["must be an object of parameter values"]})
    errors = values_validate(template.spec.get("parameters") or [], values, context=context)
    if errors:
        raise ValuesInvalid(errors)
    return values


def _ref_name(value: str, kind: str, field_name: str) -> str:
    try:
        parsed = parse_ref(value, default_kind=kind)
    except (RefError, TypeError) as exc:
        raise ValuesInvalid({field_name: [f"{value!r} is not a {kind} reference"]}) from exc
    if parsed.kind.lower() != kind:
        raise ValuesInvalid({field_name: [f"{value!r} is not a {kind} reference"]})
    return parsed.name.lower()


def _short_ref(key: str) -> str:
    """``group:default/finance`` → ``group:finance`` (the form written in files)."""
    kind, _, rest = key.partition(":")
    namespace, _, name = rest.partition("/")
    return f"{kind}:{name}" if namespace == "default" else key


def _skeleton(template: Entity) -> dict[str, bytes]:
    try:
        return entity_source_files(entity=template, folder="skeleton")
    except ReadError as exc:
        raise TemplateError(f"template {template.name}: cannot read its skeleton: {exc}") from exc


def _render(template: Entity, values: dict, meta: dict) -> dict[str, str]:
    """Render the skeleton and add the environment files the template did not write."""
    try:
        files = skeleton_render(files=_skeleton(template), values=values, meta=meta, template_name=template.name)
    except TemplateRenderError as exc:
        raise TemplateError(str(exc)) from exc
    if CATALOG_FILE not in files:
        raise TemplateError(f"template {template.name}: its skeleton writes no {CATALOG_FILE}")
    for environment in settings.MESHFORGE_ENVIRONMENTS:
        files.setdefault(
            f"{ENVIRONMENTS_FOLDER}/{environment}/{CONFIGURATIONS_FILE}",
            f"# Values for {environment}, deep-merged into spec.mesh.specific of the descriptor.\n{{}}\n",
        )
    return files


def _rendered_entity_check(template: Entity, text: str, *, kind: str, name: str) -> list:
    """The rendered catalog-info.yaml must hold a valid entity of the expected kind and name."""
    try:
        documents = load_all(text, source=CATALOG_FILE)
    except YamlError as exc:
        raise TemplateError(f"template {template.name}: {CATALOG_FILE} does not render valid YAML: {exc}") from exc
    for document in documents:
        problems = validate_entity(document, source=CATALOG_FILE)
        if problems:
            raise TemplateError(f"template {template.name} renders an invalid entity: {problems[0]}")
    if not any(
        isinstance(d, dict) and str(d.get("kind", "")).lower() == kind and (d.get("metadata") or {}).get("name") == name
        for d in documents
    ):
        raise TemplateError(f"template {template.name}: {CATALOG_FILE} does not define {kind} {name}")
    return documents


# --- data products ---------------------------------------------------------------------------------------


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


def _dataproduct_draft(*, template: Entity, values: object, actor) -> _DataProductDraft:
    _template_check(template, kind="template", types=frozenset({TemplateType.DATAPRODUCT}))
    owner = values.get("owner") if isinstance(values, dict) else None
    if isinstance(owner, str) and team_of_ref(owner) and not team_may_write(owner_ref=owner, user=actor):
        raise PermissionDenied(f"you may create data products only for your own teams, not {owner}")
    values = _values_check(template, values, context=PickerContext(user=actor))
    domain = _ref_name(values["domain"], "domain", "domain")
    name = values["name"]
    if not isinstance(name, str) or not _SLUG_RE.fullmatch(name):
        raise ValuesInvalid({"name": ["must be 3 to 40 characters of a-z, 0-9 and '-', starting with a letter"]})
    owner_key = parse_ref(values["owner"], default_kind="group").key
    if not Entity.objects.filter(ref=f"domain:default/{domain}", orphan=False).exists():
        raise ValuesInvalid({"domain": [f"domain {domain!r} does not exist in the catalog"]})
    entity_name = f"{domain}.{name}.0"
    identifier = dp_urn(domain, name, 0)
    owner = _short_ref(owner_key)
    username = actor.get_username() if getattr(actor, "is_authenticated", False) else "meshforge"
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
    files = _render(template, values, meta)
    _rendered_entity_check(template, files[CATALOG_FILE], kind="system", name=entity_name)
    files[CATALOG_FILE] = files[CATALOG_FILE].rstrip("\n") + "\n" + _components_location(entity_name)
    _rendered_entity_check(template, files[CATALOG_FILE], kind="location", name=f"{entity_name}.components")
    return _DataProductDraft(
        domain=domain, name=name, owner_ref=owner_key, entity_name=entity_name, id=identifier, files=files
    )


def _components_location(entity_name: str) -> str:
    return (
        "---\n"
        "# The components of this data product: Meshforge adds and removes targets as components come and go.\n"
        "apiVersion: backstage.io/v1alpha1\n"
        "kind: Location\n"
        "metadata:\n"
        f"  name: {entity_name}.components\n"
        "spec:\n"
        "  targets: []\n"
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
    holder = Entity.objects.select_related("location").filter(ref=ref, orphan=False).first()
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
        domain = _ref_name(domain_ref, "domain", "domain")
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


def dataproduct_create(*, template: Entity, values: object, actor) -> DataProduct:
    """Create a data product from a template: reserve its id, render, create its repository, commit as the
    user, register the location and process it now; undo everything if a step fails (PRODUCT §4.2)."""
    draft = _dataproduct_draft(template=template, values=values, actor=actor)
    _conflict_check(draft.entity_name, draft.id)
    draft.reservation = _reserve(draft, actor=actor)  # from here on this process holds the creation lock
    try:
        try:
            for step, run in _CREATION_STEPS:
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
    )


def _step_location(draft: _DataProductDraft, actor) -> None:
    target = validate_target(LocationType.GIT, f"{draft.url}#main:{CATALOG_FILE}")
    # the platform registers its own repository (a file:// URL only staff may name) on the creator's behalf,
    # recorded as the product's own repository: it wins the product's refs over anyone else's untrusted location
    owner = actor if getattr(actor, "is_authenticated", False) else None
    draft.location = location_register(
        type=LocationType.GIT, target=target, actor=OPERATOR, owner=owner, home=[_system_ref(draft.entity_name)]
    ).location


def _step_processing(draft: _DataProductDraft, actor) -> None:
    entity = Entity.objects.filter(ref=_system_ref(draft.entity_name), location__isnull=False).first()
    if entity is None or not DataProduct.objects.filter(entity=entity).exists():
        errors = Location.objects.get(pk=draft.location.pk).errors if draft.location else []
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


_CREATION_STEPS: list[tuple[str, Callable]] = [
    ("repository", _step_repository),
    ("commit", _step_commit),
    ("location", _step_location),
    ("processing", _step_processing),
]


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
        return location_get_by_target(type=LocationType.GIT, target=f"{url}#main:{CATALOG_FILE}")
    except InvalidTarget:
        return None


def _entity_location(entity: Entity) -> Location:
    """The location that read the entity's own file: refreshing it (not the root) re-reads that file now."""
    if entity.location_id is None:
        raise CreationFailed("location", f"{entity.ref} has no location to refresh")
    return Location.objects.get(pk=entity.location_id)


# --- components ------------------------------------------------------------------------------------------


@dataclass
class _ComponentDraft:
    data_product: DataProduct
    slug: str
    entity_name: str
    id: str
    folder: str
    files: dict[str, str]
    catalog_text: str
    base: str


def _component_draft(*, data_product: DataProduct, template: Entity, values: object, actor) -> _ComponentDraft:
    if not dataproduct_may_write(data_product=data_product, user=actor):
        raise PermissionDenied(f"only members of {data_product.owner_ref} may change {data_product.name}")
    current = _dataproduct_file(data_product)  # first: a product Meshforge cannot write takes no values
    _template_check(template, kind="template", types=COMPONENT_TYPES)
    values = _values_check(template, values, context=PickerContext(user=actor, data_product=data_product))
    slug = values["name"]
    if not isinstance(slug, str) or not _SLUG_RE.fullmatch(slug):
        raise ValuesInvalid({"name": ["must be 3 to 40 characters of a-z, 0-9 and '-', starting with a letter"]})
    domain, name, major = data_product.domain_name, data_product.slug, data_product.major
    entity_name = f"{data_product.name}.{slug}"
    identifier = component_urn(domain, name, major, slug)
    # a component of that name from someone else's untrusted repository blocks nothing: the product's own
    # repository takes its ref over (PRODUCT §3.2)
    ref = f"component:default/{entity_name}"
    holder = Entity.objects.select_related("location").filter(ref=ref, orphan=False).first()
    if Component.objects.filter(component_id=identifier, data_product=data_product).exists() or (
        holder is not None and holder.location is not None and location_vouches_for(holder.location, ref)
    ):
        raise DataProductConflict(f"component {identifier} already exists")
    depends_on = values.get("dependsOn") or []
    username = actor.get_username() if getattr(actor, "is_authenticated", False) else "meshforge"
    mesh = template.spec.get("mesh") or {}
    meta = {
        "kind": template.spec["type"],
        "domain": domain,
        "name": name,
        "major": major,
        "entity_name": data_product.name,
        "id": data_product.dp_id,
        "version": data_product.version or INITIAL_VERSION,
        "owner": _short_ref(data_product.owner_ref),
        "owner_group": data_product.owner_team,
        "user_ref": f"user:{username}",
        "username": username,
        "use_case_template_id": mesh.get("useCaseTemplateId", ""),
        "infrastructure_template_id": mesh.get("infrastructureTemplateId", ""),
        "environments": list(settings.MESHFORGE_ENVIRONMENTS),
        "component": slug,
        "component_entity_name": entity_name,
        "component_id": identifier,
        "system": f"system:{data_product.name}",
        "dp_id": data_product.dp_id,
        "depends_on": list(depends_on),
    }
    files = _render(template, values, meta)
    _rendered_entity_check(template, files[CATALOG_FILE], kind="component", name=entity_name)
    folder = posixpath.join(entity_folder(data_product.entity), COMPONENTS_FOLDER, slug)
    relative = f"./{COMPONENTS_FOLDER}/{slug}/{CATALOG_FILE}"
    catalog_text = _targets_edit(current.text, data_product.name, add=relative)
    return _ComponentDraft(
        data_product=data_product,
        slug=slug,
        entity_name=entity_name,
        id=identifier,
        folder=folder,
        files={posixpath.join(folder, path): text for path, text in files.items()},
        catalog_text=catalog_text,
        base=current.revision,
    )


def _dataproduct_file(data_product: DataProduct):
    return _writable_file(data_product.entity)


def _writable_file(entity: Entity):
    """The entity's file as it is in Git now. A product kept in a repository Meshforge did not create (someone
    else's, adopted from elsewhere, or not Git at all) is read by the catalog but changed only where it lives:
    :class:`RepositoryNotWritable` (HTTP 409). A repository that cannot be read is a failure (HTTP 503)."""
    try:
        current = entity_file(entity=entity)
    except RepositoryNotWritable:
        raise
    except GitProviderError as exc:
        raise CreationFailed("repository", str(exc)) from exc
    if not git_provider().writable(current.url):
        raise RepositoryNotWritable(
            f"{entity.name} cannot be changed through Meshforge: {repository_label(current.url)} is not a repository "
            "it may write; change it in Git"
        )
    return current


def component_preview(*, data_product: DataProduct, template: Entity, values: object, actor) -> CreationPlan:
    draft = _component_draft(data_product=data_product, template=template, values=values, actor=actor)
    dp_path = parse_git_target(data_product.entity.source_target).path
    return CreationPlan(
        entity_name=draft.entity_name,
        id=draft.id,
        files=sorted([*draft.files.items(), (dp_path, draft.catalog_text)]),
        repository_url=data_product.repository_url,
        folder=draft.folder,
    )


def component_create(*, data_product: DataProduct, template: Entity, values: object, actor) -> Component:
    """Add a component in a folder of the data product's repository and list it in the DP's Location targets,
    in one commit by the user; then refresh. If the catalog does not produce it, the commit is reverted."""
    draft = _component_draft(data_product=data_product, template=template, values=values, actor=actor)
    parsed = parse_git_target(data_product.entity.source_target)
    try:
        sha = git_provider().commit(
            url=parsed.repository,
            files={**draft.files, parsed.path: draft.catalog_text},
            message=f"Add {template.spec['type']} {draft.slug} to {data_product.name}",
            author=author_of(actor),
            branch=parsed.branch or "main",
            base=(parsed.path, draft.base),
        )
    except HeadMoved as exc:
        raise StaleEdit(f"{parsed.path} changed in Git while the component was being added; try again") from exc
    except GitProviderError as exc:
        raise CreationFailed("commit", str(exc)) from exc
    with transaction.atomic():  # Git changed: recorded whatever the catalog makes of it
        audit_record(actor=actor, action="component.create", obj=data_product, after={"id": draft.id, "commit": sha})
    location = _entity_location(data_product.entity)  # its new child location is due at once
    location_refresh(location=location, actor=actor)
    component = Component.objects.select_related("entity").filter(component_id=draft.id).first()
    if component is None:
        try:
            _component_files_remove(data_product, folder=draft.folder, paths=list(draft.files), actor=actor)
        except (GitProviderError, StaleEdit) as exc:
            raise CreationFailed(
                "processing", f"the catalog did not produce {draft.entity_name}, and reverting the commit failed: {exc}"
            ) from exc
        location_refresh(location=location, actor=actor)
        raise CreationFailed("processing", f"the catalog did not produce {draft.entity_name}; the commit was reverted")
    return component


def _component_files_remove(data_product: DataProduct, *, folder: str, paths: list[str], actor) -> str:
    """One commit deleting ``paths`` and the folder's target from the DP's components Location."""
    parsed = parse_git_target(data_product.entity.source_target)
    current = entity_file(entity=data_product.entity)
    relative = "./" + posixpath.relpath(posixpath.join(folder, CATALOG_FILE), posixpath.dirname(parsed.path) or ".")
    try:
        return git_provider().commit(
            url=parsed.repository,
            files={
                **dict.fromkeys(paths),
                parsed.path: _targets_edit(current.text, data_product.name, remove=relative),
            },
            message=f"Remove {posixpath.basename(folder)} from {data_product.name}",
            author=author_of(actor),
            branch=parsed.branch or "main",
            base=(parsed.path, current.revision),
        )
    except HeadMoved as exc:
        raise StaleEdit(f"{parsed.path} changed in Git meanwhile; try again") from exc


def component_remove(*, component: Component, actor) -> None:
    """Remove a component: its folder and its Location target go in one commit; its entity goes at once."""
    data_product = component.data_product
    if data_product is None:
        raise CreationFailed("repository", f"{component.name} belongs to no data product Meshforge knows")
    if not dataproduct_may_write(data_product=data_product, user=actor):
        raise PermissionDenied(f"only members of {data_product.owner_ref} may change {data_product.name}")
    _dataproduct_file(data_product)
    entity = component.entity
    try:
        own = parse_git_target(entity.source_target)
    except InvalidTarget as exc:
        raise RepositoryNotWritable(f"{component.name} was not read from Git; remove it where it lives") from exc
    if own.repository != parse_git_target(data_product.entity.source_target).repository:
        raise RepositoryNotWritable(
            f"{component.name} lives in another repository ({repository_label(own.repository)}); remove it there"
        )
    folder = posixpath.dirname(own.path)
    if not folder or folder == entity_folder(data_product.entity):
        raise CreationFailed("repository", f"{component.name} is not in a folder of its own; remove it in Git")
    prefix = entity.source_target[: len(entity.source_target) - len(own.path)] + folder + "/"
    if Entity.objects.filter(source_target__startswith=prefix).exclude(pk=entity.pk).exists():
        raise CreationFailed("repository", f"{folder}/ holds other entities too; remove {component.name} in Git")
    try:
        files = entity_source_files(entity=entity, folder="")
    except ReadError as exc:
        raise CreationFailed("repository", str(exc)) from exc
    try:
        sha = _component_files_remove(
            data_product, folder=folder, paths=[posixpath.join(folder, path) for path in files], actor=actor
        )
    except GitProviderError as exc:
        raise CreationFailed("commit", str(exc)) from exc
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="component.remove",
            obj=data_product,
            before={"id": component.component_id},
            after={"commit": sha},
        )
    location_refresh(location=_entity_location(data_product.entity), actor=actor)
    entity = Entity.objects.filter(pk=entity.pk, orphan=True).first()
    if entity is not None:  # removed on purpose: no grace period
        entity_delete(entity=entity, actor=OPERATOR)


def _yaml_rt(text: str = "") -> YAML:
    """A round-trip YAML that writes with the indentation of ``text``, so that a diff shows only what changed."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line the user wrote
    mapping, offset = _indentation(text)
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    return yaml


def _indentation(text: str) -> tuple[int, int]:
    """How ``text`` indents a nested mapping, and a block sequence's dash under its key (2 and 2 by default,
    as Meshforge writes); the first example of each in the file wins."""
    mapping = offset = None
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for line, following in itertools.pairwise(lines):
        if not line.rstrip().endswith(":"):
            continue
        key_column = len(line) - len(line.lstrip()) + (2 if line.lstrip().startswith("- ") else 0)
        column = len(following) - len(following.lstrip())
        if following.lstrip().startswith("- "):
            if offset is None and column >= key_column:
                offset = column - key_column
        elif mapping is None and column > key_column:
            mapping = column - key_column
        if mapping is not None and offset is not None:
            break
    return mapping or 2, 2 if offset is None else offset


def _documents_rt(text: str, source: str = CATALOG_FILE) -> list:
    _file_documents(text, source)  # the safe loader's limits first: ruamel never sees an alias bomb
    try:
        return list(_yaml_rt(text).load_all(text))
    except RuamelError as exc:
        raise DataProductConflict(f"{source} in Git cannot be edited ({exc}); fix it in Git first") from exc


def _dump_rt(documents: list, text: str = "") -> str:
    stream = io.StringIO()
    _yaml_rt(text).dump_all(documents, stream)
    return stream.getvalue()


def _targets_edit(text: str, dp_name: str, *, add: str | None = None, remove: str | None = None) -> str:
    """Add or remove a target of the data product's components Location (appended when the file has none)."""
    documents = _documents_rt(text)
    location = next(
        (
            d
            for d in documents
            if isinstance(d, dict) and str(d.get("kind", "")).lower() == "location" and isinstance(d.get("spec"), dict)
        ),
        None,
    )
    if location is None:
        if add is None:
            return text
        return text.rstrip("\n") + "\n" + _components_location(dp_name).replace("targets: []", f"targets:\n    - {add}")
    targets = location["spec"].get("targets")
    if not isinstance(targets, list):
        targets = location["spec"]["targets"] = []
    normalized = {posixpath.normpath(str(t)): t for t in targets}
    if add is not None and posixpath.normpath(add) not in normalized:
        targets.append(add)
    if remove is not None:
        for value in [t for t in targets if posixpath.normpath(str(t)) == posixpath.normpath(remove)]:
            targets.remove(value)
    return _dump_rt(documents, text)


# --- edits -----------------------------------------------------------------------------------------------


@dataclass
class DiffRow:
    old_no: int | None
    old: str
    new_no: int | None
    new: str
    change: str  # equal, replace, delete, insert, skip


@dataclass
class EditPlan:
    old_text: str
    new_text: str
    diff: list[DiffRow]
    revision: str

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text


def _edit_fields(edit_template: Entity) -> dict[str, list[str]]:
    fields = edit_template.spec.get("fields") or {}
    return {name: [paths] if isinstance(paths, str) else list(paths) for name, paths in fields.items()}


def _entity_product(entity: Entity) -> tuple[DataProduct | None, Component | None]:
    """The data product an entity is, or is a component of (with the component)."""
    component = Component.objects.select_related("data_product").filter(entity=entity).first()
    if component is not None:
        return component.data_product, component
    return DataProduct.objects.filter(entity=entity).first(), None


def _entity_may_write(entity: Entity, data_product: DataProduct | None, actor) -> bool:
    if data_product is not None:
        return dataproduct_may_write(data_product=data_product, user=actor)
    try:
        owner = parse_ref(entity.spec.get("owner", ""), default_kind="group").key
    except (RefError, TypeError):
        return bool(getattr(actor, "is_staff", False))
    return team_may_write(owner_ref=owner, user=actor)


def _entity_document(documents: list, entity: Entity):
    for document in documents:
        if (
            isinstance(document, dict)
            and str(document.get("kind", "")).lower() == entity.kind.lower()
            and isinstance(document.get("metadata"), dict)
            and str(document["metadata"].get("name", "")).lower() == entity.name.lower()
        ):
            return document
    raise CreationFailed("repository", f"{entity.ref} is no longer in its file; reload the page")


def _path_get(document, path: str):
    node = document
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _path_set(document, path: str, value) -> None:
    parts = path.split(".")
    node = document
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            if value is None:
                return
            child = node[part] = CommentedMap()
        node = child
    if value is None:
        # a form cannot tell an empty field from a cleared one: what is already empty ("", [], {}) stays as
        # written (an adapter may need ``dependsOn: []``), and the diff shows only what the person changed
        if _plain(node.get(parts[-1])) not in ("", [], {}):
            node.pop(parts[-1], None)
    elif _plain(node.get(parts[-1])) != value:
        node[parts[-1]] = _merged(node.get(parts[-1]), value)


def _merged(old, new):
    """``new`` written into the round-trip node ``old`` in place, so each sequence and mapping keeps its flow or
    block style, its comments and its key order: changing one column of ``- {name: day, dataType: DATE}`` rows is
    a one-line diff, not the whole list rewritten in block style. Values equal to what is there stay untouched
    (with their quotes)."""
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        if not old and new and all(isinstance(item, dict) for item in new):
            return _rows(new)  # from [] to rows: one flow mapping per line, as Meshforge's skeletons write them
        for index, item in enumerate(new):
            if index < len(old):
                old[index] = _merged(old[index], item)
            else:
                old.append(_styled_like(item, old[index - 1] if index else None))
        del old[len(new) :]
        return old
    if isinstance(old, CommentedMap) and isinstance(new, dict):
        quoted = next((type(key) for key in old if isinstance(key, ScalarString)), None)
        for key in [key for key in old if key not in new]:
            del old[key]
        for key, value in new.items():
            if key in old:
                old[key] = _merged(old[key], value)
            else:  # a new key quoted as the keys beside it (the skeletons write JSON-like flow mappings)
                old[quoted(key) if quoted else key] = quoted(value) if quoted and isinstance(value, str) else value
        return old
    if old is not None and _plain(old) == new:
        return old
    return type(old)(new) if isinstance(old, ScalarString) and isinstance(new, str) else new


def _styled_like(value, sibling):
    """A new item for a sequence, in the flow or block style (and the quoting) of the item before it."""
    if isinstance(value, dict) and isinstance(sibling, CommentedMap):
        item = CommentedMap()
        if sibling.fa.flow_style():
            item.fa.set_flow_style()
        return _quoted_like(item, value, sibling)
    return value


def _quoted_like(item: CommentedMap, value: dict, sibling: CommentedMap) -> CommentedMap:
    quoted = next((type(key) for key in sibling if isinstance(key, ScalarString)), None)
    for key, child in value.items():
        item[quoted(key) if quoted else key] = quoted(child) if quoted and isinstance(child, str) else child
    return item


def _rows(items: list[dict]) -> CommentedSeq:
    rows = CommentedSeq()
    for item in items:
        row = CommentedMap(item)
        row.fa.set_flow_style()
        rows.append(row)
    rows.fa.set_block_style()
    return rows


def _current_values(document, edit_template: Entity) -> dict:
    values = {}
    for name, paths in _edit_fields(edit_template).items():
        value = _path_get(document, paths[0])
        if value is not None:
            values[name] = _plain(value)
    return values


def _file_documents(text: str, source: str) -> list:
    try:
        return load_all(text, source=source)
    except YamlError as exc:
        raise DataProductConflict(f"{source} in Git cannot be read ({exc}); fix it in Git first") from exc


def edit_initial(*, entity: Entity, edit_template: Entity) -> dict:
    """The edit form's values, read at the ``spec.fields`` paths of the entity's current file."""
    current = _writable_file(entity)
    return _current_values(_entity_document(_file_documents(current.text, current.path), entity), edit_template)


def _edit_plan(*, entity: Entity, edit_template: Entity, values: object, actor, base_revision: str) -> EditPlan:
    data_product, component = _entity_product(entity)
    if not _entity_may_write(entity, data_product, actor):
        raise PermissionDenied(f"only members of the owner team may edit {entity.name}")
    _template_check(edit_template, kind="edittemplate", types=frozenset(TemplateType.values) | {None})
    if not isinstance(values, dict):
        raise ValuesInvalid({"": ["must be an object of parameter values"]})
    current = _writable_file(entity)
    if current.revision != base_revision:
        raise StaleEdit(
            f"{current.path} changed in Git since you opened this form ({base_revision[:7]} → "
            f"{current.revision[:7]}); reload to edit the new version"
        )
    documents = _documents_rt(current.text, current.path)
    document = _entity_document(documents, entity)
    # a value not named keeps what the file has; None clears an optional field
    merged = _current_values(document, edit_template) | values
    merged = {name: value for name, value in merged.items() if value is not None}
    context = PickerContext(user=actor, data_product=data_product, component=component)
    merged = _values_check(edit_template, merged, context=context)
    for name, paths in _edit_fields(edit_template).items():
        if any(path in IDENTITY_PATHS for path in paths):
            raise TemplateError(f"template {edit_template.name}: {name} maps to an identity field")
        value = merged.get(name)
        for path in paths:
            _path_set(document, path, value)
            mesh = _path_get(document, "spec.mesh")
            if path == "metadata.description" and isinstance(mesh, dict) and "description" in mesh:
                # derived: must keep equal (PRODUCT §3.3)
                _path_set(document, "spec.mesh.description", value)
    new_text = _dump_rt(documents, current.text)
    if _file_documents(new_text, current.path) == _file_documents(current.text, current.path):
        new_text = current.text  # same data: keep the file byte for byte
    else:
        for changed in _file_documents(new_text, current.path):
            problems = validate_entity(changed, source=current.path)
            if problems:
                raise ValuesInvalid({"": problems})
    return EditPlan(
        old_text=current.text, new_text=new_text, diff=diff_rows(current.text, new_text), revision=current.revision
    )


def entity_edit_preview(
    *, entity: Entity, edit_template: Entity, values: object, actor, base_revision: str
) -> EditPlan:
    """The change an edit would make, as a side-by-side diff of the file; nothing is written."""
    return _edit_plan(
        entity=entity, edit_template=edit_template, values=values, actor=actor, base_revision=base_revision
    )


def entity_edit(*, entity: Entity, edit_template: Entity, values: object, actor, base_revision: str) -> str:
    """Commit an edit as the user (refused when the file changed since ``base_revision``), then refresh the
    catalog. Returns the new commit's sha (``""`` when nothing changed)."""
    plan = _edit_plan(
        entity=entity, edit_template=edit_template, values=values, actor=actor, base_revision=base_revision
    )
    if not plan.changed:
        return ""
    parsed = parse_git_target(entity.source_target)
    try:
        sha = git_provider().commit(
            url=parsed.repository,
            files={parsed.path: plan.new_text},
            message=f"Edit {entity.name}",
            author=author_of(actor),
            branch=parsed.branch or "main",
            base=(parsed.path, base_revision),
        )
    except HeadMoved as exc:
        raise StaleEdit(f"{parsed.path} changed in Git since you opened this form; reload to edit it") from exc
    except GitProviderError as exc:
        raise CreationFailed("commit", str(exc)) from exc
    with transaction.atomic():  # Git changed: recorded before the catalog reads it
        audit_record(
            actor=actor,
            action="entity.edit",
            obj=entity,
            before={"revision": base_revision},
            after={"revision": sha, "fields": sorted(_edit_fields(edit_template))},
        )
    location_refresh(location=_entity_location(entity), actor=actor)
    return sha


def diff_rows(old: str, new: str, *, context: int = 2) -> list[DiffRow]:
    """Side-by-side rows of the changed lines with ``context`` equal lines around them; each longer run of
    equal lines becomes one ``skip`` row."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False).get_opcodes():
        for k in range(max(i2 - i1, j2 - j1)):
            old_no = i1 + k + 1 if i1 + k < i2 else None
            new_no = j1 + k + 1 if j1 + k < j2 else None
            change = tag if tag != "replace" or (old_no and new_no) else ("delete" if old_no else "insert")
            rows.append(
                DiffRow(
                    old_no,
                    old_lines[old_no - 1] if old_no else "",
                    new_no,
                    new_lines[new_no - 1] if new_no else "",
                    change,
                )
            )
    changed = [index for index, row in enumerate(rows) if row.change != "equal"]
    shown: list[DiffRow] = []
    for index, row in enumerate(rows):
        if row.change != "equal" or any(abs(index - c) <= context for c in changed):
            shown.append(row)
        elif not shown or shown[-1].change != "skip":
            shown.append(DiffRow(None, "", None, "", "skip"))
    return shown


# --- domains ---------------------------------------------------------------------------------------------


def domains_repository_url() -> str:
    return (settings.MESHFORGE_GIT_ROOT / "platform" / "domains.git").as_uri()


def _domains_location(actor) -> Location:
    """The trusted platform repository that holds the domains created from the Domains page."""
    provider = git_provider()
    url = domains_repository_url()
    target = validate_target(LocationType.GIT, f"{url}#main:{CATALOG_FILE}")
    location = location_get_by_target(type=LocationType.GIT, target=target)
    if location is not None:
        return location
    if not provider.writable(url):
        with contextlib.suppress(RepositoryExists):  # created by a concurrent request
            provider.repository_create(domain="platform", name="domains")
    try:
        provider.file_read(url=url, path=CATALOG_FILE)
    except GitProviderError:
        provider.commit(
            url=url,
            files={
                CATALOG_FILE: (
                    "# Domains created from Meshforge's Domains page; each target is one domain.\n"
                    "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: platform-domains\n"
                    "spec:\n  targets: []\n"
                )
            },
            message="Start the domains repository",
            author=author_of(actor),
        )
    try:
        return location_register(type=LocationType.GIT, target=target, actor=OPERATOR, trusted=True).location
    except CatalogConflict:
        return location_get_by_target(type=LocationType.GIT, target=target)


def _domain_document(*, name: str, title: str, description: str, owner_ref: str, parent: str) -> dict:
    metadata = {"name": name}
    if title:
        metadata["title"] = title
    if description:
        metadata["description"] = description
    spec = {"owner": _short_ref(owner_ref)}
    if parent:
        spec["subdomainOf"] = f"domain:{parent}"
    return {"apiVersion": "backstage.io/v1alpha1", "kind": "Domain", "metadata": metadata, "spec": spec}


def _domain_inputs(*, title: str, description: str, owner_ref: str, parent: str | None, name: str) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    try:
        owner_key = parse_ref(owner_ref, default_kind="group").key
        if not owner_key.startswith("group:"):
            raise RefError("not a group")
    except (RefError, TypeError):
        errors["owner_ref"] = [f"{owner_ref!r} is not a group reference"]
        owner_key = ""
    parent_name = ""
    if parent:
        parent_name = parent.name if isinstance(parent, Domain) else str(parent).removeprefix("domain:")
        if parent_name == name:
            errors["parent"] = ["a domain cannot be its own parent"]
        elif not Domain.objects.filter(name=parent_name).exists():
            errors["parent"] = [f"domain {parent_name!r} does not exist"]
    if len(title) > 200:
        errors["title"] = ["must be at most 200 characters"]
    if errors:
        raise ValuesInvalid(errors)
    return owner_key, parent_name


def domain_create(*, name: str, title: str = "", description: str = "", owner_ref: str, parent=None, actor) -> Domain:
    """Staff create a Domain entity in the platform's domains repository (one file per domain)."""
    if not getattr(actor, "is_staff", False):
        raise PermissionDenied("only staff may create domains")
    if not isinstance(name, str) or not _DOMAIN_RE.fullmatch(name):
        raise ValuesInvalid({"name": ["must be 2 to 63 characters of a-z, 0-9 and '-', starting with a letter"]})
    owner_key, parent_name = _domain_inputs(
        title=title, description=description, owner_ref=owner_ref, parent=parent, name=name
    )
    if Entity.objects.filter(ref=f"domain:default/{name}").exists():
        raise DataProductConflict(f"domain {name} already exists")
    location = _domains_location(actor)
    url = domains_repository_url()
    provider = git_provider()
    document = _domain_document(
        name=name, title=title, description=description, owner_ref=owner_key, parent=parent_name
    )
    current, revision = provider.file_read(url=url, path=CATALOG_FILE)
    try:
        sha = provider.commit(
            url=url,
            files={f"{name}.yaml": dump(document), CATALOG_FILE: _targets_edit(current, name, add=f"./{name}.yaml")},
            message=f"Create domain {name}",
            author=author_of(actor),
            base=(CATALOG_FILE, revision),
        )
    except HeadMoved as exc:
        raise StaleEdit("the domains repository changed meanwhile; try again") from exc
    location_refresh(location=location, actor=actor)
    domain = Domain.objects.filter(name=name).first()
    if domain is None:  # undo: the file and its target go again
        current, revision = provider.file_read(url=url, path=CATALOG_FILE)
        provider.commit(
            url=url,
            files={f"{name}.yaml": None, CATALOG_FILE: _targets_edit(current, name, remove=f"./{name}.yaml")},
            message=f"Undo domain {name}: the catalog did not accept it",
            author=author_of(actor),
            base=(CATALOG_FILE, revision),
        )
        location_refresh(location=location, actor=actor)
        errors = Location.objects.filter(parent=location).exclude(errors=[]).values_list("errors", flat=True)
        reason = next((error for found in errors for error in found), "no entity came out")
        raise CreationFailed("processing", f"the catalog did not accept domain {name} ({reason}); nothing was kept")
    with transaction.atomic():
        audit_record(actor=actor, action="domain.create", obj=domain, after={**document, "commit": sha})
    return domain


def domain_update(
    *, domain: Domain, title: str = "", description: str = "", owner_ref: str, parent=None, actor
) -> Domain:
    """Staff edit a domain's title, description, owner and parent in its file (wherever it lives in Git)."""
    if not getattr(actor, "is_staff", False):
        raise PermissionDenied("only staff may edit domains")
    owner_key, parent_name = _domain_inputs(
        title=title, description=description, owner_ref=owner_ref, parent=parent, name=domain.name
    )
    entity = domain.entity
    current = _writable_file(entity)
    documents = _documents_rt(current.text, current.path)
    document = _entity_document(documents, entity)
    _path_set(document, "metadata.title", title or None)
    _path_set(document, "metadata.description", description or None)
    _path_set(document, "spec.owner", _short_ref(owner_key))
    _path_set(document, "spec.subdomainOf", f"domain:{parent_name}" if parent_name else None)
    new_text = _dump_rt(documents, current.text)
    after = {"title": title, "description": description, "owner": owner_key, "parent": parent_name}
    if new_text != current.text:
        try:
            sha = git_provider().commit(
                url=current.url,
                files={current.path: new_text},
                message=f"Edit domain {domain.name}",
                author=author_of(actor),
                branch=current.branch,
                base=(current.path, current.revision),
            )
        except HeadMoved as exc:
            raise StaleEdit(f"{current.path} changed in Git meanwhile; try again") from exc
        with transaction.atomic():
            audit_record(actor=actor, action="domain.update", obj=domain, after={**after, "commit": sha})
        location_refresh(location=_entity_location(entity), actor=actor)
    domain.refresh_from_db()
    return domain


def load_values_file(text: str, *, source: str) -> dict:
    """Values for ``create_dataproduct --values FILE`` (YAML or JSON)."""
    values = load(text, source=source)
    if not isinstance(values, dict):
        raise ValuesInvalid({"": [f"{source} must hold a mapping of parameter values"]})
    return values
