"""The platform's domains (PRODUCT §4.1): staff create them in Meshforge's own domains repository, one file
per domain, and edit them in their file wherever it lives in Git."""

from __future__ import annotations

import contextlib
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from catalog.choices import LocationType
from catalog.models import Location
from catalog.readers import validate_target
from catalog.refs import RefError, parse_ref
from catalog.selectors import entity_exists, location_child_errors, location_get_by_target
from catalog.services import CatalogConflict, location_refresh, location_register
from core.services import OPERATOR, audit_record
from core.yaml import dump
from dataproducts.exceptions import CreationFailed, DataProductConflict, StaleEdit, ValuesInvalid
from dataproducts.gitops.patch import entity_file_patch
from dataproducts.gitops.provider import (
    DEFAULT_BRANCH,
    GitProviderError,
    HeadMoved,
    RepositoryExists,
    author_of,
    git_provider,
)
from dataproducts.gitops.roundtrip import location_targets_edit, path_set
from dataproducts.layout import CATALOG_FILE
from dataproducts.models import Domain
from dataproducts.services.drafting import short_ref

_DOMAIN_RE = re.compile(r"[a-z][a-z0-9-]{0,61}[a-z0-9]")


def domains_repository_url() -> str:
    return (settings.MESHFORGE_GIT_ROOT / "platform" / "domains.git").as_uri()


def _domains_location(actor) -> Location:
    """The trusted platform repository that holds the domains created from the Domains page."""
    provider = git_provider()
    url = domains_repository_url()
    target = validate_target(LocationType.GIT, f"{url}#{DEFAULT_BRANCH}:{CATALOG_FILE}")
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
    spec = {"owner": short_ref(owner_ref)}
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
    if entity_exists(ref=f"domain:default/{name}", include_orphans=True):
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
            files={f"{name}.yaml": dump(document), CATALOG_FILE: _targets_edit(current, add=f"./{name}.yaml")},
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
            files={f"{name}.yaml": None, CATALOG_FILE: _targets_edit(current, remove=f"./{name}.yaml")},
            message=f"Undo domain {name}: the catalog did not accept it",
            author=author_of(actor),
            base=(CATALOG_FILE, revision),
        )
        location_refresh(location=location, actor=actor)
        errors = location_child_errors(location=location)
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

    def patch(document) -> None:
        path_set(document, "metadata.title", title or None)
        path_set(document, "metadata.description", description or None)
        path_set(document, "spec.owner", short_ref(owner_key))
        path_set(document, "spec.subdomainOf", f"domain:{parent_name}" if parent_name else None)

    entity_file_patch(
        entity=domain.entity,
        patch=patch,
        actor=actor,
        message=f"Edit domain {domain.name}",
        audit_action="domain.update",
        audit_obj=domain,
        audit_after={"title": title, "description": description, "owner": owner_key, "parent": parent_name},
    )
    domain.refresh_from_db()
    return domain


def _targets_edit(text: str, *, add: str | None = None, remove: str | None = None) -> str:
    """The domains Location with a domain's file added to or removed from its targets."""
    edited = location_targets_edit(text, add=add, remove=remove)
    if edited is None:
        raise CreationFailed("repository", f"{CATALOG_FILE} of the domains repository holds no Location")
    return edited
