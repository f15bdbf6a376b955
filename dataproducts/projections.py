"""Keep ``Domain``, ``DataProduct`` and ``Component`` rows in step with the catalog entities they project.

Runs inside catalog processing's transaction (``catalog.signals.entities_changed``), so rows and entities are
committed together; deleting an entity deletes its projection through the foreign key."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver

from catalog.membership import component_belongs, data_product_problem
from catalog.models import Entity
from catalog.readers import InvalidTarget, parse_git_target
from catalog.refs import DEFAULT_NAMESPACE, RefError, parse_dp_entity_name, parse_ref
from catalog.selectors import data_product_entities, entities_by_kind, entity_list
from catalog.signals import entities_changed
from catalog.teams import team_of_ref
from catalog.validation import is_data_product, is_data_product_component
from dataproducts.models import Component, DataProduct, DataProductIdentity, Domain


@receiver(entities_changed, dispatch_uid="dataproducts.projections")
def _on_entities_changed(sender, *, refs: frozenset[str], system_keys: frozenset[str], **kwargs) -> None:
    projections_update(refs=refs, system_keys=system_keys)


def projections_update(*, refs: Iterable[str], system_keys: Iterable[str]) -> None:
    """Re-project the domains among ``refs`` and every data product in ``system_keys`` with its components."""
    domain_refs = [ref for ref in refs if ref.startswith("domain:")]
    if domain_refs:
        _domains_project(domain_refs)
    system_keys = sorted(system_keys)
    if system_keys:
        _data_products_project(system_keys)


def _text(value: object, limit: int | None = None) -> str:
    text = value if isinstance(value, str) else ""
    return text[:limit] if limit else text


def _domains_project(domain_refs: list[str]) -> None:
    entities = entity_list(refs=domain_refs, include_orphans=True).select_related("domain_projection", "location")
    for entity in entities:
        if entity.orphan or not _domain_acceptable(entity):
            # only its own row: a domain from elsewhere must not displace the real one of the same name
            Domain.objects.filter(entity=entity).delete()
            continue
        spec = entity.spec
        fields = {
            "name": entity.name,
            "title": _text(entity.metadata.get("title"), 200),
            "description": _text(entity.metadata.get("description")),
            "owner_ref": _ref_key(spec.get("owner"), "group") or "",
            "parent_name": _ref_name(spec.get("subdomainOf"), "domain"),
        }
        # another domain may hold the name while it moves between files: the entity is the identity
        Domain.objects.filter(name=entity.name).exclude(entity=entity).delete()
        Domain.objects.update_or_create(entity=entity, defaults=fields)


def _domain_acceptable(entity: Entity) -> bool:
    """Domains are the platform's: only those of the default namespace read from a trusted location count (anyone
    may register a location, and a data product's id names its domain without a namespace)."""
    return entity.namespace == DEFAULT_NAMESPACE and entity.location is not None and entity.location.trusted


def _data_products_project(system_keys: list[str]) -> None:
    entities = data_product_entities(system_keys=system_keys)
    systems = {entity.ref: entity for entity in entities if entity.ref in system_keys}
    existing = {dp.entity_id: dp for dp in DataProduct.objects.filter(entity__in=systems.values())}
    by_name: dict[str, DataProduct] = {}
    for key in system_keys:
        entity = systems.get(key)
        if entity is None:
            continue
        fields = _data_product_fields(entity)
        if fields is None or data_product_problem(entity) is not None:
            # a product read from someone else's repository stays a plain catalog entity (its error says why)
            DataProduct.objects.filter(entity=entity).delete()
            continue
        DataProduct.objects.filter(Q(name=fields["name"]) | Q(dp_id=fields["dp_id"])).exclude(entity=entity).delete()
        data_product = existing.get(entity.pk) or DataProduct(entity=entity)
        data_product.entity = entity  # with its location, which decides what components belong to it
        for field, value in fields.items():
            setattr(data_product, field, value)
        data_product.save()
        by_name[data_product.name] = data_product
    if by_name:  # history outlives the projection: each product keeps one identity from its first projection on
        DataProductIdentity.objects.bulk_create(
            [DataProductIdentity(dp_id=dp.dp_id, entity_name=dp.name) for dp in by_name.values()],
            ignore_conflicts=True,
        )

    components = [entity for entity in entities if entity.ref not in systems]
    current = {
        c.entity_id: c
        for c in Component.objects.filter(
            Q(entity__in=components) | Q(system_name__in=[key.split("/", 1)[1] for key in system_keys])
        )
    }
    kept: set[int] = set()
    for entity in components:
        fields = _component_fields(entity)
        if fields is None:
            continue
        data_product = (
            by_name.get(fields["system_name"])
            or DataProduct.objects.select_related("entity", "entity__location")
            .filter(name=fields["system_name"])
            .first()
        )
        # spec.system alone proves nothing: the row stays, unlinked, when it came from elsewhere
        fields["data_product"] = (
            data_product if data_product and component_belongs(entity, data_product.entity) else None
        )
        Component.objects.filter(Q(name=fields["name"]) | Q(component_id=fields["component_id"])).exclude(
            entity=entity
        ).delete()
        component = current.get(entity.pk) or Component(entity=entity)
        for field, value in fields.items():
            setattr(component, field, value)
        component.save()
        kept.add(entity.pk)
    # components that left these data products (moved to another system, or no longer a DP component)
    gone = [pk for pk in current if pk not in kept]
    if gone:
        Component.objects.filter(entity_id__in=gone).delete()


def _data_product_fields(entity: Entity) -> dict | None:
    document = entity.document
    if not is_data_product(document):
        return None
    identity = parse_dp_entity_name(entity.name)
    if identity is None:
        return None
    spec, metadata = entity.spec, entity.metadata
    mesh = spec.get("mesh") if isinstance(spec.get("mesh"), dict) else {}
    owner_ref = _ref_key(spec.get("owner"), "group") or ""
    title = _text(metadata.get("title")) or _text(mesh.get("name"))
    description = _text(metadata.get("description")) or _text(mesh.get("description"))
    tags = [tag for tag in metadata.get("tags") or [] if isinstance(tag, str)]
    return {
        "name": entity.name,
        "dp_id": identity.urn,
        "domain_name": identity.domain,
        "slug": identity.name,
        "major": int(identity.major),
        "title": title[:200],
        "description": description,
        "owner_ref": owner_ref,
        "owner_team": team_of_ref(owner_ref) if owner_ref else "",
        "dev_group_ref": _ref_key(mesh.get("devGroup"), "group") or "",
        "data_product_owner": _text(mesh.get("dataProductOwner"), 200),
        "maturity": _text(mesh.get("maturity"), 63),
        "lifecycle": _text(spec.get("lifecycle"), 63),
        "version": _text(mesh.get("version"), 63),
        "use_case_template_id": _text(mesh.get("useCaseTemplateId"), 200),
        "tags": tags,
        "repository_url": _repository_of(entity),
        "has_errors": entity.has_errors,
        "orphan": entity.orphan,
        "search_text": " ".join([entity.name, title, description, *tags]).lower(),
    }


def _component_fields(entity: Entity) -> dict | None:
    if not is_data_product_component(entity.document):
        return None
    identity = parse_dp_entity_name(entity.name, component=True)
    if identity is None:
        return None
    spec, metadata = entity.spec, entity.metadata
    mesh = spec["mesh"] if isinstance(spec.get("mesh"), dict) else {}
    depends_on = mesh.get("dependsOn")
    return {
        "system_name": identity.system_name,
        "name": entity.name,
        "component_id": identity.urn,
        "slug": identity.component,
        "kind": _text(spec.get("type"), 63),
        "title": (_text(metadata.get("title")) or _text(mesh.get("name")))[:200],
        "description": _text(metadata.get("description")) or _text(mesh.get("description")),
        "version": _text(mesh.get("version"), 63),
        "infrastructure_template_id": _text(mesh.get("infrastructureTemplateId"), 200),
        "use_case_template_id": _text(mesh.get("useCaseTemplateId"), 200),
        "depends_on": [urn for urn in depends_on if isinstance(urn, str)] if isinstance(depends_on, list) else [],
        "has_errors": entity.has_errors,
        "orphan": entity.orphan,
    }


def _ref_key(value: object, default_kind: str) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_ref(value, default_kind=default_kind).key
    except RefError:
        return None


def _ref_name(value: object, default_kind: str) -> str:
    key = _ref_key(value, default_kind)
    return key.split("/", 1)[1] if key else ""


def _repository_of(entity: Entity) -> str:
    location = entity.location
    if location is None or location.type != "git":
        return location.target if location else ""
    try:
        parsed = parse_git_target(location.target)
    except InvalidTarget:
        return location.target
    return f"{parsed.repository}#{parsed.branch}" if parsed.branch else parsed.repository


def projections_rebuild() -> None:
    """Project every Domain and data product entity again (after an upgrade added a projection, or to repair)."""
    domain_refs = list(entities_by_kind(kind="domain", include_orphans=True).values_list("ref", flat=True))
    system_refs = list(
        entities_by_kind(kind="system", include_orphans=True)
        .filter(document__spec__type="dataproduct")
        .values_list("ref", flat=True)
    )
    with transaction.atomic():
        Domain.objects.exclude(entity__ref__in=domain_refs).delete()
        DataProduct.objects.exclude(entity__ref__in=system_refs).delete()
        projections_update(refs=domain_refs, system_keys=system_refs)
