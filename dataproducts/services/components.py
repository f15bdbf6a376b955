"""Adding components to a data product and removing them (PRODUCT §4.2): a component is a folder of the
product's repository listed in the Location of its ``catalog-info.yaml``; each change is one commit by the
person on the product's branch, then the catalog re-reads the product."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from catalog.membership import location_vouches_for
from catalog.models import Entity
from catalog.readers import InvalidTarget, ReadError, parse_git_target
from catalog.refs import component_urn
from catalog.selectors import entities_in_folder_besides, entity_get, entity_orphan_get, entity_source_files
from catalog.services import entity_delete, location_refresh
from core.services import OPERATOR, audit_record
from dataproducts.choices import COMPONENT_TYPES
from dataproducts.exceptions import CreationFailed, DataProductConflict, StaleEdit
from dataproducts.gitops.patch import entity_location, writable_file
from dataproducts.gitops.provider import (
    GitProviderError,
    HeadMoved,
    RepositoryNotWritable,
    author_of,
    git_provider,
    repository_label,
)
from dataproducts.gitops.roundtrip import location_targets_edit
from dataproducts.layout import CATALOG_FILE, ProductLayout, components_location
from dataproducts.models import Component, DataProduct
from dataproducts.scaffold.pickers import PickerContext
from dataproducts.selectors import dataproduct_may_write, entity_file
from dataproducts.services.creation import CreationPlan
from dataproducts.services.drafting import (
    INITIAL_VERSION,
    files_render,
    rendered_entity_check,
    short_ref,
    slug_check,
    template_check,
    username_of,
    values_check,
)


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
    current = writable_file(data_product.entity)  # first: a product Meshforge cannot write takes no values
    template_check(template, kind="template", types=COMPONENT_TYPES)
    values = values_check(template, values, context=PickerContext(user=actor, data_product=data_product))
    slug = slug_check(values["name"])
    domain, name, major = data_product.domain_name, data_product.slug, data_product.major
    entity_name = f"{data_product.name}.{slug}"
    identifier = component_urn(domain, name, major, slug)
    # a component of that name from someone else's untrusted repository blocks nothing: the product's own
    # repository takes its ref over (PRODUCT §3.2)
    ref = f"component:default/{entity_name}"
    holder = entity_get(ref=ref)
    if Component.objects.filter(component_id=identifier, data_product=data_product).exists() or (
        holder is not None and holder.location is not None and location_vouches_for(holder.location, ref)
    ):
        raise DataProductConflict(f"component {identifier} already exists")
    depends_on = values.get("dependsOn") or []
    username = username_of(actor)
    mesh = template.spec.get("mesh") or {}
    meta = {
        "kind": template.spec["type"],
        "domain": domain,
        "name": name,
        "major": major,
        "entity_name": data_product.name,
        "id": data_product.dp_id,
        "version": data_product.version or INITIAL_VERSION,
        "owner": short_ref(data_product.owner_ref),
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
    files = files_render(template, values, meta)
    rendered_entity_check(template, files[CATALOG_FILE], kind="component", name=entity_name)
    layout = _layout(data_product)
    folder = layout.component_folder(slug)
    catalog_text = _targets_edit(current.text, data_product.name, add=layout.component_target(folder))
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


def _layout(data_product: DataProduct) -> ProductLayout:
    try:
        return ProductLayout.of(data_product.entity)
    except InvalidTarget as exc:
        raise RepositoryNotWritable(f"{data_product.name} was not read from Git; change it where it lives") from exc


def _targets_edit(text: str, dp_name: str, *, add: str | None = None, remove: str | None = None) -> str:
    """Add or remove a target of the data product's components Location (appended when the file has none)."""
    edited = location_targets_edit(text, add=add, remove=remove)
    if edited is not None:
        return edited
    if add is None:
        return text
    return text.rstrip("\n") + "\n" + components_location(dp_name, [add])


def component_preview(*, data_product: DataProduct, template: Entity, values: object, actor) -> CreationPlan:
    draft = _component_draft(data_product=data_product, template=template, values=values, actor=actor)
    return CreationPlan(
        entity_name=draft.entity_name,
        id=draft.id,
        files=sorted([*draft.files.items(), (_layout(data_product).catalog_path, draft.catalog_text)]),
        repository_url=data_product.repository_url,
        folder=draft.folder,
    )


def component_create(*, data_product: DataProduct, template: Entity, values: object, actor) -> Component:
    """Add a component in a folder of the data product's repository and list it in the DP's Location targets,
    in one commit by the user; then refresh. If the catalog does not produce it, the commit is reverted."""
    draft = _component_draft(data_product=data_product, template=template, values=values, actor=actor)
    layout = _layout(data_product)
    try:
        sha = git_provider().commit(
            url=layout.repository,
            files={**draft.files, layout.catalog_path: draft.catalog_text},
            message=f"Add {template.spec['type']} {draft.slug} to {data_product.name}",
            author=author_of(actor),
            branch=layout.branch,
            base=(layout.catalog_path, draft.base),
        )
    except HeadMoved as exc:
        raise StaleEdit(f"{layout.catalog_path} changed in Git while the component was being added; try again") from exc
    except GitProviderError as exc:
        raise CreationFailed("commit", str(exc)) from exc
    with transaction.atomic():  # Git changed: recorded whatever the catalog makes of it
        audit_record(actor=actor, action="component.create", obj=data_product, after={"id": draft.id, "commit": sha})
    location = entity_location(data_product.entity)  # its new child location is due at once
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
    layout = _layout(data_product)
    current = entity_file(entity=data_product.entity)
    try:
        return git_provider().commit(
            url=layout.repository,
            files={
                **dict.fromkeys(paths),
                layout.catalog_path: _targets_edit(
                    current.text, data_product.name, remove=layout.component_target(folder)
                ),
            },
            message=f"Remove {posixpath.basename(folder)} from {data_product.name}",
            author=author_of(actor),
            branch=layout.branch,
            base=(layout.catalog_path, current.revision),
        )
    except HeadMoved as exc:
        raise StaleEdit(f"{layout.catalog_path} changed in Git meanwhile; try again") from exc


def component_remove(*, component: Component, actor) -> None:
    """Remove a component: its folder and its Location target go in one commit; its entity goes at once."""
    data_product = component.data_product
    if data_product is None:
        raise CreationFailed("repository", f"{component.name} belongs to no data product Meshforge knows")
    if not dataproduct_may_write(data_product=data_product, user=actor):
        raise PermissionDenied(f"only members of {data_product.owner_ref} may change {data_product.name}")
    writable_file(data_product.entity)
    layout = _layout(data_product)
    entity = component.entity
    try:
        own = parse_git_target(entity.source_target)
    except InvalidTarget as exc:
        raise RepositoryNotWritable(f"{component.name} was not read from Git; remove it where it lives") from exc
    if own.repository != layout.repository:
        raise RepositoryNotWritable(
            f"{component.name} lives in another repository ({repository_label(own.repository)}); remove it there"
        )
    folder = posixpath.dirname(own.path)
    if not folder or folder == layout.folder:
        raise CreationFailed("repository", f"{component.name} is not in a folder of its own; remove it in Git")
    prefix = entity.source_target[: len(entity.source_target) - len(own.path)] + folder + "/"
    if entities_in_folder_besides(entity=entity, prefix=prefix):
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
    location_refresh(location=entity_location(data_product.entity), actor=actor)
    entity = entity_orphan_get(pk=entity.pk)
    if entity is not None:  # removed on purpose: no grace period
        entity_delete(entity=entity, actor=OPERATOR)
