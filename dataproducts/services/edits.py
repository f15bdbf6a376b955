"""Editing a data product or a component through its edit template (PRODUCT §4.2): the form's values are
written at the template's ``spec.fields`` paths of the entity's own file, through
:func:`~dataproducts.gitops.patch.entity_file_patch` (a diff first, then a commit on the file's branch)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from catalog.models import Entity
from catalog.refs import RefError, parse_ref
from catalog.teams import team_may_write
from dataproducts.choices import TemplateType
from dataproducts.exceptions import TemplateError, ValuesInvalid
from dataproducts.gitops.patch import FilePatch, entity_file_patch, writable_file
from dataproducts.gitops.roundtrip import documents_read, entity_document, path_get, path_set, plain
from dataproducts.models import Component, DataProduct
from dataproducts.scaffold.checks import IDENTITY_PATHS
from dataproducts.scaffold.pickers import PickerContext
from dataproducts.selectors import dataproduct_may_write
from dataproducts.services.drafting import template_check, values_check


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


def _current_values(document, edit_template: Entity) -> dict:
    values = {}
    for name, paths in _edit_fields(edit_template).items():
        value = path_get(document, paths[0])
        if value is not None:
            values[name] = plain(value)
    return values


def edit_initial(*, entity: Entity, edit_template: Entity) -> dict:
    """The edit form's values, read at the ``spec.fields`` paths of the entity's current file."""
    current = writable_file(entity)
    return _current_values(entity_document(documents_read(current.text, current.path), entity), edit_template)


def _edit(
    *, entity: Entity, edit_template: Entity, values: object, actor, base_revision: str, dry_run: bool
) -> FilePatch:
    data_product, component = _entity_product(entity)
    if not _entity_may_write(entity, data_product, actor):
        raise PermissionDenied(f"only members of the owner team may edit {entity.name}")
    template_check(edit_template, kind="edittemplate", types=frozenset(TemplateType.values) | {None})
    if not isinstance(values, dict):
        raise ValuesInvalid({"": ["must be an object of parameter values"]})
    fields = _edit_fields(edit_template)

    def patch(document) -> None:
        # a value not named keeps what the file has; None clears an optional field
        merged = _current_values(document, edit_template) | values
        merged = {name: value for name, value in merged.items() if value is not None}
        context = PickerContext(user=actor, data_product=data_product, component=component)
        merged = values_check(edit_template, merged, context=context)
        for name, paths in fields.items():
            if any(path in IDENTITY_PATHS for path in paths):
                raise TemplateError(f"template {edit_template.name}: {name} maps to an identity field")
            value = merged.get(name)
            for path in paths:
                path_set(document, path, value)
                mesh = path_get(document, "spec.mesh")
                if path == "metadata.description" and isinstance(mesh, dict) and "description" in mesh:
                    # derived: must keep equal (PRODUCT §3.3)
                    path_set(document, "spec.mesh.description", value)

    return entity_file_patch(
        entity=entity,
        patch=patch,
        actor=actor,
        message=f"Edit {entity.name}",
        audit_action="entity.edit",
        audit_after={"fields": sorted(fields)},
        base_revision=base_revision,
        dry_run=dry_run,
    )


def entity_edit_preview(
    *, entity: Entity, edit_template: Entity, values: object, actor, base_revision: str
) -> FilePatch:
    """The change an edit would make, as a side-by-side diff of the file; nothing is written."""
    return _edit(
        entity=entity,
        edit_template=edit_template,
        values=values,
        actor=actor,
        base_revision=base_revision,
        dry_run=True,
    )


def entity_edit(*, entity: Entity, edit_template: Entity, values: object, actor, base_revision: str) -> str:
    """Commit an edit as the user (refused when the file changed since ``base_revision``), then refresh the
    catalog. Returns the new commit's sha (``""`` when nothing changed)."""
    return _edit(
        entity=entity,
        edit_template=edit_template,
        values=values,
        actor=actor,
        base_revision=base_revision,
        dry_run=False,
    ).sha
