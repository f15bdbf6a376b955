"""Releases of a data product (PRODUCT §4.4): a *draft* freezes the product as of one commit of its repository
(``releases/X.Y-SNAPSHOT-N/`` in Git and a ``Release`` row); *promoting* a draft makes an immutable stable
``X.Y.Z``, tagged ``vX.Y.Z`` in Git, its version written back to ``spec.mesh.version``.

Each action validates its release with ``full_clean()`` before anything else: that is the governance gate (it
evaluates policies, perhaps over the network), so it runs before any row lock is taken and before Git is touched.
Then the product's identity row is locked, so that the releases of one product are made one at a time, and the
Git steps run; promotion's are a saga like creation's, its tags removed again when a later step fails.

A breaking change is released as a new major version instead (:func:`release_major_create`): a branch
``release/<N+1>`` with the ids moved, registered as a data product of its own beside the old one."""

from __future__ import annotations

import copy
import logging
import posixpath
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from ruamel.yaml.scalarstring import ScalarString

from catalog.choices import LocationType
from catalog.models import Location
from catalog.readers import InvalidTarget, ReadError, parse_git_target, read_git_folders, validate_target
from catalog.refs import dp_urn
from catalog.selectors import entity_exists, location_get
from catalog.services import location_refresh, location_register, location_unregister
from core.errors import ServiceError
from core.services import OPERATOR, audit_record
from core.yaml import dump
from dataproducts import selectors
from dataproducts.choices import ReleaseKind, ReservationState
from dataproducts.descriptor.changes import Change, change_level, descriptor_changes
from dataproducts.exceptions import CreationFailed, DataProductConflict
from dataproducts.gitops.patch import entity_file_patch, entity_location
from dataproducts.gitops.provider import (
    BranchExists,
    GitProviderError,
    HeadMoved,
    RepositoryNotWritable,
    author_of,
    git_provider,
    repository_label,
)
from dataproducts.gitops.roundtrip import documents_dump, documents_load, path_get, path_set
from dataproducts.layout import ProductLayout, release_descriptor_file
from dataproducts.models import DataProduct, DataProductIdentity, DataProductReservation, Release
from dataproducts.services.drafting import username_of
from dataproducts.versions import Version, draft_version_next, stable_version_check, stable_version_suggest

logger = logging.getLogger(__name__)

BREAKING_CHANGE = "breaking_change"


class ReleaseConflict(ServiceError):
    """The product changed while its release was being made (a commit landed meanwhile): try again (HTTP 409)."""

    status = HTTPStatus.CONFLICT


class BreakingChanges(ValidationError):
    """A promotion refused because the draft breaks its consumers against the last stable release of the major
    (code ``breaking_change``): ``changes`` lists each (environment, change); the way out is a new major,
    ``next_major``."""

    def __init__(self, changes: list[tuple[str, Change]], *, last_stable: str, next_major: int):
        self.changes = changes
        self.last_stable = last_stable
        self.next_major = next_major
        super().__init__(
            {
                "breaking_changes": [
                    ValidationError(f"{environment}: {change}", code=BREAKING_CHANGE) for environment, change in changes
                ]
            }
        )
        self.code = BREAKING_CHANGE

    @property
    def summary(self) -> str:
        count = len(self.changes)
        return (
            f"{count} breaking change{'s' if count != 1 else ''} against {self.last_stable}: a breaking change needs "
            f"a new major version ({self.next_major})"
        )


# --- shared steps -------------------------------------------------------------------------------------------


def _may_release(data_product: DataProduct, actor) -> None:
    if not selectors.dataproduct_may_write(data_product=data_product, user=actor):
        team = data_product.owner_team or data_product.owner_ref or "its owner team"
        raise PermissionDenied(f"only members of {team} may release {data_product.name}")


def _identity(data_product: DataProduct) -> DataProductIdentity:
    # made on projection; get_or_create covers a product projected before identities existed
    identity, _ = DataProductIdentity.objects.get_or_create(
        dp_id=data_product.dp_id, defaults={"entity_name": data_product.name}
    )
    return identity


def _layout(data_product: DataProduct) -> ProductLayout:
    """Where the product lives; refused (409) when Meshforge cannot write there: a release commits and tags."""
    try:
        layout = ProductLayout.of(data_product.entity)
    except InvalidTarget as exc:
        raise RepositoryNotWritable(
            f"{data_product.name} cannot be released through Meshforge: it was not read from Git"
        ) from exc
    if not git_provider().writable(layout.repository):
        raise RepositoryNotWritable(
            f"{data_product.name} cannot be released through Meshforge: {repository_label(layout.repository)} is not "
            "a repository it may write"
        )
    return layout


def _refresh(data_product: DataProduct, layout: ProductLayout, actor) -> tuple[DataProduct, str]:
    """Re-read the product and its components from Git now; the product as read, and the commit it was read at.

    The commit is the branch head the refresh of the product's location read (``Location.source_revision``), not
    the System entity's ``source_revision``: an entity whose file did not change keeps the commit it was first
    read at, while the environment files next to it may have changed since."""
    root = entity_location(data_product.entity)
    location_refresh(location=root, actor=actor)
    others = {component.entity.location_id for component in data_product.components.all()} - {root.pk, None}
    for pk in sorted(others):
        location_refresh(location=location_get(pk=pk), actor=actor)
    revision = location_get(pk=root.pk).source_revision
    for pk in others:
        location = location_get(pk=pk)
        # a component of the same repository read at another commit: a commit landed between the two reads
        if location.target.startswith(f"{layout.repository}#") and location.source_revision != revision:
            raise ReleaseConflict(f"{data_product.name} changed in Git while it was being read; try again")
    refreshed = selectors.dataproduct_get(name=data_product.name)
    if refreshed is None or not revision:
        raise ReleaseConflict(f"{data_product.name} could not be read from Git; its location's page says why")
    return refreshed, revision


def _versioned(descriptors: dict[str, dict], version: Version) -> dict[str, dict]:
    """The descriptors with ``version`` as the version of the data product and of each of its components."""
    result = copy.deepcopy(descriptors)
    for descriptor in result.values():
        descriptor["version"] = str(version)
        for component in descriptor.get("components") or []:
            if isinstance(component, dict):
                component["version"] = str(version)
    return result


def _author(actor) -> dict:
    return {
        "created_by": actor if getattr(actor, "is_authenticated", False) else None,
        "created_by_name": username_of(actor),
    }


NOTES_MAX_LENGTH = 10_000


def _notes_check(notes: str) -> str:
    """Release notes go into a row and a Git message: text without NUL, valid Unicode, of a sane length."""
    problem = ""
    if not isinstance(notes, str):
        problem = "must be text"
    elif "\x00" in notes:
        problem = "must not contain NUL characters"
    elif len(notes) > NOTES_MAX_LENGTH:
        problem = f"must be at most {NOTES_MAX_LENGTH} characters (it has {len(notes)})"
    else:
        try:
            notes.encode("utf-8")
        except UnicodeEncodeError:
            problem = "is not valid Unicode text"
    if problem:
        raise ValidationError({"notes": [f"release notes {problem}"]}, code="invalid")
    return notes


def _lock(identity: DataProductIdentity) -> None:
    """Serialise the releases of one product (the caller holds a transaction)."""
    DataProductIdentity.objects.select_for_update().filter(pk=identity.pk).get()


# --- drafts ---------------------------------------------------------------------------------------------------


def release_draft_version(*, product: DataProductIdentity, major: int) -> Version:
    """The version the next draft of ``major`` takes."""
    last = selectors.release_last_stable(product=product, major=major)
    last_stable = Version.parse(last.version) if last is not None else None
    minor = last_stable.minor + 1 if last_stable is not None else 0
    last_snapshot = selectors.release_last_snapshot(product=product, major=major, minor=minor)
    return draft_version_next(major=major, last_stable=last_stable, last_snapshot=last_snapshot)


def release_draft_create(*, data_product: DataProduct, actor, notes: str = "") -> Release:
    """Freeze the data product as a draft ``X.Y-SNAPSHOT-N``: refresh it from Git, assemble the descriptor of every
    environment as of the commit read, validate (the gate), then commit ``releases/<version>/`` (the descriptors and
    the environment files) in one commit on the product's branch and record the release. A draft of the same X.Y
    made meanwhile makes this one N+1: drafts are never overwritten."""
    _may_release(data_product, actor)
    _notes_check(notes)
    layout = _layout(data_product)
    data_product, revision = _refresh(data_product, layout, actor)
    identity = _identity(data_product)
    frozen = selectors.dataproduct_freeze(
        data_product=data_product,
        environments=list(settings.MESHFORGE_ENVIRONMENTS),
        at=(layout.repository, revision),
    )
    problems = [f"{env}: {problem}" for env, found in frozen.problems.items() for problem in found]
    if problems:
        raise ValidationError({"descriptors": problems}, code="invalid")
    version = release_draft_version(product=identity, major=data_product.major)
    release = Release(
        product=identity,
        version=str(version),
        kind=ReleaseKind.DRAFT,
        major=version.major,
        minor=version.minor,
        snapshot=version.snapshot,
        descriptors=_versioned(frozen.descriptors, version),
        commit=revision,  # the commit it froze, until the commit of releases/<version>/ (its child) replaces it
        repository_url=layout.repository,
        notes=notes,
        **_author(actor),
    )
    release.full_clean()  # the gate: before any lock and any write (it may wait on the network)
    with transaction.atomic():
        _lock(identity)
        now = _draft_version_free(
            release_draft_version(product=identity, major=data_product.major), layout=layout, revision=revision
        )
        if now != version:  # a concurrent draft of this X.Y took N, or an attempt that died left its folder in Git
            version = now
            release.version, release.minor, release.snapshot = str(now), now.minor, now.snapshot
            release.descriptors = _versioned(frozen.descriptors, now)
        folder = layout.release_folder(str(version))
        files: dict[str, str | None] = {
            posixpath.join(folder, release_descriptor_file(environment)): dump(descriptor)
            for environment, descriptor in release.descriptors.items()
        }
        files |= {posixpath.join(folder, path): text for path, text in frozen.files.items()}
        try:
            # on the commit that was read, or not at all: the folder then holds exactly the product it describes
            release.commit = git_provider().commit(
                url=layout.repository,
                files=files,
                message=f"Release {version} of {data_product.name} (draft)" + (f"\n\n{notes}" if notes else ""),
                author=author_of(actor),
                branch=layout.branch,
                parent=revision,
            )
        except HeadMoved as exc:
            raise ReleaseConflict(f"{data_product.name} changed in Git while the draft was made; try again") from exc
        except GitProviderError as exc:
            raise CreationFailed("commit", str(exc)) from exc
        release.save()
        audit_record(
            actor=actor,
            action="release.draft",
            obj=release,
            after={"version": release.version, "commit": release.commit, "files": sorted(files)},
        )
    return release


def _draft_version_free(version: Version, *, layout: ProductLayout, revision: str) -> Version:
    """``version``, or the next snapshot whose ``releases/`` folder is not in Git yet: an attempt whose commit
    landed but whose row did not (it died between the two) left its folder, and drafts are never overwritten."""
    while True:
        folder = layout.release_folder(str(version))
        try:
            found = read_git_folders(layout.repository, revision=revision, folders=[folder])[folder]
        except ReadError:
            return version  # unreadable here: the commit, which checks its parent, decides
        if isinstance(found, ReadError) or not found:
            return version
        version = Version.draft(version.major, version.minor, version.snapshot + 1)


# --- promotion ------------------------------------------------------------------------------------------------


@dataclass
class _Promotion:
    data_product: DataProduct
    release: Release
    actor: object
    tags_made: list[tuple[str, str]] = field(default_factory=list)  # (repository, commit)
    version_commits: list[str] = field(default_factory=list)

    @property
    def tag(self) -> str:
        return Version.parse(self.release.version).tag


PromotionStep = Callable[[_Promotion], None]


def _step_tag(promotion: _Promotion) -> None:
    """The annotated tag on the frozen commit in every repository of the product. Only the product's own repository
    has a frozen commit (components kept in other repositories are not tagged)."""
    release = promotion.release
    message = f"{promotion.data_product.name} {release.version}" + (f"\n\n{release.notes}" if release.notes else "")
    for repository in [release.repository_url]:
        git_provider().tag(
            url=repository,
            name=promotion.tag,
            commit=release.commit,
            message=message,
            author=author_of(promotion.actor),
        )
        promotion.tags_made.append((repository, release.commit))


def _step_version(promotion: _Promotion) -> None:
    """``spec.mesh.version`` of the product and of its components set to the stable version, through the one door
    that changes entity files."""
    version = promotion.release.version
    data_product = promotion.data_product
    entities = [data_product.entity] + [c.entity for c in data_product.components.all() if not c.orphan]
    for entity in entities:
        mesh = entity.spec.get("mesh") if isinstance(entity.spec, dict) else None
        if not isinstance(mesh, dict) or mesh.get("version") == version:
            continue
        result = entity_file_patch(
            entity=entity,
            patch=lambda document: path_set(document, "spec.mesh.version", version),
            actor=promotion.actor,
            message=f"Release {version} of {data_product.name}: spec.mesh.version",
            audit_action="release.version",
            audit_after={"version": version},
        )
        if result.sha:
            promotion.version_commits.append(result.sha)


def _step_save(promotion: _Promotion) -> None:
    # the catalog refresh of the write-back turned synchronous commit off for this transaction (it may for its own
    # rows); a stable release whose tag exists must not be lost in a crash: on again
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO ON")
    promotion.release.save()
    audit_record(
        actor=promotion.actor,
        action="release.promote",
        obj=promotion.release,
        after={
            "version": promotion.release.version,
            "from": promotion.release.promoted_from.version,
            "commit": promotion.release.commit,
            "tag": promotion.tag,
            "version_commits": promotion.version_commits,
        },
    )


PROMOTION_STEPS: tuple[tuple[str, PromotionStep], ...] = (
    ("tag", _step_tag),
    ("version", _step_version),
    ("save", _step_save),
)


def _promotion_undo(promotion: _Promotion) -> None:
    """Remove the tags this promotion made (the version written back stays: it is the next draft's business)."""
    for repository, commit in reversed(promotion.tags_made):
        try:
            if not git_provider().tag_delete(url=repository, name=promotion.tag, commit=commit):
                logger.warning("tag %s in %s is not this promotion's: kept", promotion.tag, repository)
        except GitProviderError:
            logger.exception("cannot remove tag %s from %s", promotion.tag, repository)


def _draft_to_promote(product: DataProductIdentity, major: int, draft: Release | str | None) -> Release:
    if draft is None:
        found = selectors.release_latest_draft(product=product, major=major)
        if found is None:
            raise ValidationError({"draft": ["there is no draft release to promote: create a draft first"]})
        return found
    if isinstance(draft, str):
        # no NUL reaches the query (PostgreSQL refuses it in text): such a version names no release
        found = None if "\x00" in draft else Release.objects.filter(product=product, version=draft).first()
        if found is None:
            raise ValidationError({"draft": [f"there is no release {draft}"]}, code="invalid")
        draft = found
    if draft.product_id != product.pk or draft.kind != ReleaseKind.DRAFT:
        raise ValidationError({"draft": [f"{draft.version} is not a draft release of this data product"]})
    promoted = draft.promotions.first()
    if promoted is not None:
        raise ValidationError({"draft": [f"{draft.version} was promoted already, to {promoted.version}"]})
    return draft


def release_notes_set(*, release: Release, notes: str, actor) -> Release:
    """Amend a draft's release notes (the only thing of a release that may change), audited. A stable release
    refuses it (``ValidationError``, from its model validation)."""
    before = Release.objects.filter(pk=release.pk).values_list("notes", flat=True).first() or ""
    release.notes = notes
    release.full_clean()
    if release.notes != before:
        release.save(update_fields=["notes"])
        audit_record(actor=actor, action="release.notes", obj=release, before={"notes": before}, after={"notes": notes})
    return release


def release_breaking_changes(*, draft: Release, last_stable: Release | None) -> list[tuple[str, Change]]:
    """The breaking differences of the draft against the last stable release, per environment."""
    if last_stable is None:
        return []
    return [
        (environment, change)
        for environment, descriptor in draft.descriptors.items()
        if environment in last_stable.descriptors
        for change in descriptor_changes(last_stable.descriptors[environment], descriptor)
        if change.breaking
    ]


def release_promotion_plan(*, draft: Release) -> tuple[Version, list[tuple[str, Change]], Release | None]:
    """What promoting ``draft`` would make: the suggested stable version, the breaking changes that refuse it, and the
    last stable release it is compared with."""
    last = selectors.release_last_stable(product=draft.product, major=draft.major)
    levels = [
        change_level(descriptor_changes(last.descriptors[environment], descriptor))
        for environment, descriptor in draft.descriptors.items()
        if last is not None and environment in last.descriptors
    ]
    level = max((level for level in levels if level is not None), default=None)
    suggested = stable_version_suggest(
        draft=Version.parse(draft.version),
        last_stable=Version.parse(last.version) if last is not None else None,
        level=level,
    )
    return suggested, release_breaking_changes(draft=draft, last_stable=last), last


def release_promote(
    *,
    data_product: DataProduct,
    actor,
    draft: Release | str | None = None,
    version: str | None = None,
    notes: str = "",
    steps: Sequence[tuple[str, PromotionStep]] | None = None,
) -> Release:
    """Promote a draft (the latest by default) to a stable release: refused on a breaking change against the last
    stable release of the major (:class:`BreakingChanges`); ``version`` (X.Y.Z, the draft's major, greater than the
    last stable) or the suggested one; validated (the gate, every environment) with ``version`` in the descriptors;
    then, one promotion of the product at a time, tag ``vX.Y.Z`` (never moving a tag), write ``spec.mesh.version``
    back and record it. A failed step removes the tags made. ``steps`` replaces :data:`PROMOTION_STEPS` (tests)."""
    _may_release(data_product, actor)
    _notes_check(notes)
    identity = _identity(data_product)
    draft = _draft_to_promote(identity, data_product.major, draft)
    suggested, breaking, last = release_promotion_plan(draft=draft)
    if breaking:
        raise BreakingChanges(breaking, last_stable=last.version, next_major=draft.major + 1)
    draft_version = Version.parse(draft.version)
    last_version = Version.parse(last.version) if last is not None else None
    stable = stable_version_check(version, draft=draft_version, last_stable=last_version) if version else suggested
    _layout(data_product)
    release = Release(
        product=identity,
        version=str(stable),
        kind=ReleaseKind.STABLE,
        major=stable.major,
        minor=stable.minor,
        patch=stable.patch,
        descriptors=_versioned(draft.descriptors, stable),
        commit=draft.commit,
        repository_url=draft.repository_url,
        promoted_from=draft,
        notes=notes or draft.notes,
        **_author(actor),
    )
    release.full_clean()  # the gate, every environment: before any lock and any write
    promotion = _Promotion(data_product=data_product, release=release, actor=actor)
    try:  # around the transaction: a COMMIT that fails undoes the tags too
        with transaction.atomic():
            _lock(identity)
            # another promotion may have won while the gate ran
            now = selectors.release_last_stable(product=identity, major=draft.major)
            if (now.pk if now else None) != (last.pk if last else None) or draft.promotions.exists():
                raise ReleaseConflict(f"{data_product.name} was promoted meanwhile ({now.version}); try again")
            for step, run in PROMOTION_STEPS if steps is None else steps:
                try:
                    run(promotion)
                except (ValidationError, PermissionDenied, ServiceError):
                    raise
                except Exception as exc:
                    logger.exception("release %s of %s: step %s failed", release.version, data_product.name, step)
                    raise CreationFailed(step, str(exc) or exc.__class__.__name__) from exc
    except BaseException:
        _promotion_undo(promotion)
        raise
    return release


# --- a new major ----------------------------------------------------------------------------------------------


MAJOR_BRANCH_PREFIX = "release/"


def major_branch(major: int) -> str:
    """The branch of the DP repository a major version after the first lives on."""
    return f"{MAJOR_BRANCH_PREFIX}{major}"


@dataclass
class _MajorIds:
    """How the ids of a data product move from major ``old`` to ``new``: every string that names the product, one
    of its components or its components Location (an id, an entity name, a ref) is rewritten, and nothing else."""

    domain: str
    name: str
    old: int
    new: int

    def __post_init__(self) -> None:
        domain, name, old = (re.escape(part) for part in (self.domain, self.name, str(self.old)))
        self._urn = re.compile(rf"urn:dmb:(dp|cmp):{domain}:{name}:{old}(:[a-z0-9][a-z0-9-]*)?")
        self._entity = re.compile(rf"((?:system|component|location):(?:default/)?)?{domain}\.{name}\.{old}(\.[\w-]+)?")
        self._schema = f"{self.domain}_{self.name}_{self.old}".replace("-", "_")
        self._in_text = re.compile(
            rf"urn:dmb:(?:dp|cmp):{domain}:{name}:{old}(?::[a-z0-9][a-z0-9-]*)?(?![\w:-])"
            rf"|(?<![\w.]){domain}\.{name}\.{old}(?:\.[a-z0-9][a-z0-9-]*)?(?![\w-])"
        )

    @property
    def entity_name(self) -> str:
        return f"{self.domain}.{self.name}.{self.new}"

    def moved(self, value: str) -> str:
        if match := self._urn.fullmatch(value):
            return f"urn:dmb:{match[1]}:{self.domain}:{self.name}:{self.new}{match[2] or ''}"
        if match := self._entity.fullmatch(value):
            return f"{match[1] or ''}{self.entity_name}{match[2] or ''}"
        return value

    def comments(self, text: str) -> str:
        """``text`` with the product's ids and names moved in its comment lines (the skeletons' headers name them)."""
        return "".join(
            self._in_text.sub(lambda match: self.moved(match[0]), line) if line.lstrip().startswith("#") else line
            for line in text.splitlines(keepends=True)
        )

    def fully_qualified_name(self, value: str) -> str:
        """``Finance - Cash flow - v0`` (the product) or ``… - v0 - Daily balances`` (a component) in the new
        major; a name written otherwise stays."""
        old, new = f" - v{self.old}", f" - v{self.new}"
        if value.endswith(old):
            return value[: -len(old)] + new
        return value.replace(f"{old} - ", f"{new} - ", 1)

    def schema(self, value: str) -> str:
        """The built-in output port's default schema ``<domain>_<name>_<major>``: two majors served side by side
        must not share it."""
        return f"{self.domain}_{self.name}_{self.new}".replace("-", "_") if value == self._schema else value


def _moved_values(node, ids: _MajorIds) -> None:
    """Rewrite, in place, every string value of a round-trip document that names the product or its parts."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        if isinstance(value, str):
            moved = ids.moved(str(value))
            if moved != value:
                node[key] = type(value)(moved) if isinstance(value, ScalarString) else moved
        else:
            _moved_values(value, ids)


def _major_document(document, ids: _MajorIds) -> None:
    """One entity of the product (its System, its components Location, a component) moved to the new major: ids and
    names, ``fullyQualifiedName``, the version reset to ``<new>.0.0``."""
    if not isinstance(document, dict):
        return
    _moved_values(document, ids)
    mesh = path_get(document, "spec.mesh")
    if not isinstance(mesh, dict):
        return
    name = mesh.get("fullyQualifiedName")
    if isinstance(name, str):
        path_set(document, "spec.mesh.fullyQualifiedName", ids.fully_qualified_name(str(name)))
    if "version" in mesh:
        path_set(document, "spec.mesh.version", f"{ids.new}.0.0")
    schema = path_get(document, "spec.mesh.specific.schema")
    if isinstance(schema, str):
        path_set(document, "spec.mesh.specific.schema", ids.schema(str(schema)))


def _major_files(data_product: DataProduct, layout: ProductLayout, ids: _MajorIds) -> dict[str, str]:
    """The product's ``catalog-info.yaml`` and the files of its components kept on its branch, as read from the
    branch's head now, with the ids moved to the new major (comments, quotes and layout kept)."""
    paths = [layout.catalog_path]
    for component in data_product.components.all():
        try:
            parsed = parse_git_target(component.entity.source_target)
        except InvalidTarget:
            continue
        same_branch = (parsed.branch or layout.branch) == layout.branch
        if parsed.repository == layout.repository and same_branch and parsed.path not in paths:
            paths.append(parsed.path)
    files = {}
    for path in paths:
        try:
            text, _ = git_provider().file_read(url=layout.repository, path=path, branch=layout.branch)
        except GitProviderError as exc:
            raise CreationFailed("repository", str(exc)) from exc
        documents = documents_load(text, path)
        for document in documents:
            _major_document(document, ids)
        files[path] = ids.comments(documents_dump(documents, text))
    return files


def _branch_head(layout: ProductLayout) -> str:
    try:
        commits = git_provider().commits(url=layout.repository, branch=layout.branch, limit=1)
    except GitProviderError as exc:
        raise CreationFailed("repository", str(exc)) from exc
    if not commits:
        raise ReleaseConflict(f"branch {layout.branch} of {repository_label(layout.repository)} has no commit")
    return commits[0].sha


@dataclass
class _MajorBump:
    data_product: DataProduct
    layout: ProductLayout  # the new major's
    ids: _MajorIds
    reservation: DataProductReservation
    commit: str = ""
    location: Location | None = None


def _major_undo(bump: _MajorBump) -> None:
    """Remove what the new major's steps made: its location (and what it read), its branch, its reservation."""
    if bump.location is not None:
        try:
            location_unregister(location=bump.location, actor=OPERATOR)
        except Exception:
            logger.exception("major %s: cannot unregister its location", bump.ids.entity_name)
    if bump.commit:
        try:
            layout = bump.layout
            if not git_provider().branch_delete(url=layout.repository, name=layout.branch, commit=bump.commit):
                logger.warning("branch %s moved on since it was made: kept", bump.layout.branch)
        except GitProviderError:
            logger.exception("major %s: cannot delete branch %s", bump.ids.entity_name, bump.layout.branch)
    DataProductReservation.objects.filter(pk=bump.reservation.pk).delete()


def _major_reserve(ids: _MajorIds, layout: ProductLayout, actor) -> DataProductReservation:
    """The reservation of the new major's id: 409 when the new major exists or is being made."""
    identifier = dp_urn(ids.domain, ids.name, ids.new)
    ref = f"system:default/{ids.entity_name}"
    if DataProduct.objects.filter(dp_id=identifier).exists() or entity_exists(ref=ref):
        raise DataProductConflict(f"data product {identifier} already exists")
    if git_provider().branch_exists(url=layout.repository, name=layout.branch):
        raise DataProductConflict(
            f"branch {layout.branch} already exists in {repository_label(layout.repository)}: major {ids.new} of the "
            "data product was made before (register that branch) or the branch is somebody else's"
        )
    try:
        with transaction.atomic():
            return DataProductReservation.objects.create(
                dp_id=identifier,
                entity_name=ids.entity_name,
                repository_url=layout.repository,
                mark=uuid.uuid4().hex,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError as exc:
        raise DataProductConflict(f"data product {identifier} already exists or is being created") from exc


def release_major_create(*, data_product: DataProduct, actor) -> DataProduct:
    """Start major version N+1 of a data product at major N, for a breaking change (PRODUCT §4.4): branch
    ``release/<N+1>`` of its repository, made from the head of the product's branch by one commit that moves the
    ids of the product and of its components to ``…:<N+1>`` (names, ``fullyQualifiedName``, version
    ``<N+1>.0.0``), registered as a data product of its own beside the old one. 409 when major N+1 exists; a failed
    step undoes the others (location, branch, reservation)."""
    if not selectors.dataproduct_may_write(data_product=data_product, user=actor):
        team = data_product.owner_team or data_product.owner_ref or "its owner team"
        raise PermissionDenied(f"only members of {team} may make a new major version of {data_product.name}")
    old = _layout(data_product)
    ids = _MajorIds(
        domain=data_product.domain_name, name=data_product.slug, old=data_product.major, new=data_product.major + 1
    )
    layout = ProductLayout(repository=old.repository, branch=major_branch(ids.new), catalog_path=old.catalog_path)
    bump = _MajorBump(data_product=data_product, layout=layout, ids=ids, reservation=_major_reserve(ids, layout, actor))
    step = "commit"
    try:
        head = _branch_head(old)
        files = _major_files(data_product, old, ids)
        try:
            bump.commit = git_provider().commit(
                url=layout.repository,
                files=files,
                message=f"Major version {ids.new} of {data_product.name}: {ids.entity_name}",
                author=author_of(actor),
                branch=layout.branch,
                start=old.branch,
                parent=head,
            )
        except HeadMoved as exc:
            raise ReleaseConflict(f"{data_product.name} changed in Git while its major was made; try again") from exc
        except BranchExists as exc:
            raise DataProductConflict(str(exc)) from exc
        step = "location"
        target = validate_target(LocationType.GIT, layout.target)
        # registered for the person by the platform, as creation does: the product's own repository (``home``)
        owner = actor if getattr(actor, "is_authenticated", False) else None
        home = [f"system:default/{ids.entity_name}"]
        bump.location = location_register(
            type=LocationType.GIT, target=target, actor=OPERATOR, owner=owner, home=home
        ).location
        step = "processing"
        made = selectors.dataproduct_get(name=ids.entity_name)
        if made is None:
            errors = location_get(pk=bump.location.pk).errors
            raise CreationFailed(
                "processing", f"the catalog did not produce {ids.entity_name}" + (f": {errors[0]}" if errors else "")
            )
        with transaction.atomic():
            DataProductReservation.objects.filter(pk=bump.reservation.pk).update(state=ReservationState.CREATED)
            audit_record(
                actor=actor,
                action="dataproduct.major",
                obj=made,
                after={"id": made.dp_id, "from": data_product.dp_id, "branch": layout.branch, "commit": bump.commit},
            )
    except BaseException as exc:
        _major_undo(bump)
        if isinstance(exc, (ValidationError, PermissionDenied, ServiceError)) or not isinstance(exc, Exception):
            raise
        logger.exception("major %s of %s: step %s failed", ids.new, data_product.name, step)
        raise CreationFailed(step, str(exc) or exc.__class__.__name__) from exc
    return made
