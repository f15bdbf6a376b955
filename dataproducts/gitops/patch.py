"""The one door through which Meshforge changes an entity's file in Git: read it, refuse a stale base, patch
the entity's document in place, validate, commit as the person on the file's own branch, record the audit
entry and refresh the location that reads the file. Edits through edit templates and the domains page use it,
and so will reverse provisioning."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models, transaction

from catalog.models import Entity, Location
from catalog.selectors import location_get
from catalog.services import location_refresh
from catalog.validation import validate_entity
from core.services import audit_record
from dataproducts.exceptions import CreationFailed, StaleEdit, ValuesInvalid
from dataproducts.gitops.diff import DiffRow, diff_rows
from dataproducts.gitops.provider import (
    GitProviderError,
    HeadMoved,
    RepositoryNotWritable,
    author_of,
    git_provider,
    repository_label,
)
from dataproducts.gitops.roundtrip import documents_dump, documents_load, documents_read, entity_document
from dataproducts.selectors import EntityFile, entity_file


def writable_file(entity: Entity) -> EntityFile:
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


def entity_location(entity: Entity) -> Location:
    """The location that read the entity's own file: refreshing it (not the root) re-reads that file now."""
    if entity.location_id is None:
        raise CreationFailed("location", f"{entity.ref} has no location to refresh")
    return location_get(pk=entity.location_id)


@dataclass
class FilePatch:
    """A change of one file: what it holds, what it would hold, and (once committed) the commit."""

    path: str
    old_text: str
    new_text: str
    revision: str  # the last commit that changed the file before the patch
    diff: list[DiffRow] = field(default_factory=list)
    sha: str = ""

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text


def _patched(current: EntityFile, entity: Entity, patch: Callable) -> str:
    """The file's text after ``patch`` changed the entity's document; the file byte for byte when its data did
    not change, and every entity of a changed file valid (ValuesInvalid otherwise)."""
    documents = documents_load(current.text, current.path)
    patch(entity_document(documents, entity))
    new_text = documents_dump(documents, current.text)
    changed = documents_read(new_text, current.path)
    if changed == documents_read(current.text, current.path):
        return current.text
    for document in changed:
        problems = validate_entity(document, source=current.path)
        if problems:
            raise ValuesInvalid({"": problems})
    return new_text


def entity_file_patch(
    *,
    entity: Entity,
    patch: Callable[[dict], None],
    actor,
    message: str,
    audit_action: str,
    audit_obj: models.Model | None = None,
    audit_after: dict | None = None,
    base_revision: str | None = None,
    dry_run: bool = False,
) -> FilePatch:
    """Change ``entity``'s document in its file in Git: ``patch`` changes the round-trip document in place
    (raising ValuesInvalid for values it refuses). With ``base_revision`` (the revision a person saw), a file
    changed since is refused (StaleEdit); without, the file as read now is the base. With ``dry_run`` nothing is
    written: the FilePatch shows the diff. Otherwise a change is committed as ``actor`` on the branch the entity
    was read from, recorded as ``audit_action`` on ``audit_obj`` (the entity by default) with ``audit_after`` and
    the commit, and the catalog re-reads the file; an unchanged file commits nothing."""
    current = writable_file(entity)
    if base_revision is not None and current.revision != base_revision:
        raise StaleEdit(
            f"{current.path} changed in Git since you opened this form ({base_revision[:7]} → "
            f"{current.revision[:7]}); reload to edit the new version"
        )
    new_text = _patched(current, entity, patch)
    result = FilePatch(
        path=current.path,
        old_text=current.text,
        new_text=new_text,
        revision=current.revision,
        diff=diff_rows(current.text, new_text),
    )
    if dry_run or not result.changed:
        return result
    try:
        result.sha = git_provider().commit(
            url=current.url,
            files={current.path: new_text},
            message=message,
            author=author_of(actor),
            branch=current.branch,
            base=(current.path, current.revision),
        )
    except HeadMoved as exc:
        when = "since you opened this form; reload to edit it" if base_revision is not None else "meanwhile; try again"
        raise StaleEdit(f"{current.path} changed in Git {when}") from exc
    except GitProviderError as exc:
        raise CreationFailed("commit", str(exc)) from exc
    with transaction.atomic():  # Git changed: recorded before the catalog reads it
        audit_record(
            actor=actor,
            action=audit_action,
            obj=audit_obj if audit_obj is not None else entity,
            before={"revision": current.revision},
            after={**(audit_after or {}), "commit": result.sha},
        )
    location_refresh(location=entity_location(entity), actor=actor)
    return result
