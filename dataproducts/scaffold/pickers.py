"""The choices of the template forms' pickers (``ui:field``): catalog entities of some kinds (EntityPicker), the
teams a user may create under (OwnerPicker), the domains (DomainPicker) and the components of a data product
(ComponentPicker); with the membership test ``values_validate`` applies to every submitted picker value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, Lower

from catalog.refs import DEFAULT_NAMESPACE, RefError, parse_ref
from catalog.selectors import entity_exists, entity_list, entity_titles
from dataproducts import selectors
from dataproducts.models import Component, DataProduct

__all__ = [
    "MAX_CHOICES",
    "PickerChoice",
    "PickerContext",
    "component_choices",
    "domain_choices",
    "entity_choices",
    "owner_choices",
    "picker_choices",
    "picker_contains",
]

# A select beyond this is no use to anyone; membership is checked against the catalog, not against this list.
MAX_CHOICES = 500


@dataclass
class PickerContext:
    """Who fills the form and where: pickers offer ``user``'s teams, and the components of ``data_product``
    (without ``component``, the one being edited, which cannot depend on itself)."""

    user: Any
    data_product: DataProduct | None = None
    component: Component | None = None


@dataclass(frozen=True)
class PickerChoice:
    value: str
    label: str


def _short_ref(kind: str, namespace: str, name: str) -> str:
    """``system:finance.payments.0``: the form templates and files use, the namespace only when not default."""
    kind = kind.lower()
    return f"{kind}:{name}" if namespace.lower() == DEFAULT_NAMESPACE else f"{kind}:{namespace}/{name}"


def _label(title: str | None, value: str) -> str:
    return f"{title} ({value})" if title and title not in value else value


def entity_choices(*, kinds: list[str] | None) -> list[PickerChoice]:
    """Catalog entities (not orphans) of ``kinds`` (any kind when empty), by title then name, at most
    MAX_CHOICES."""
    return _choices(entity_list(kinds=kinds))


def _choices(queryset) -> list[PickerChoice]:
    """The entities of ``queryset`` as choices, by title then name, at most MAX_CHOICES."""
    rows = (
        queryset.annotate(label=Coalesce(KT("document__metadata__title"), F("name"), output_field=TextField()))
        .order_by(Lower("label"), "name")
        .values_list("kind", "namespace", "name", "label")[:MAX_CHOICES]
    )
    choices = []
    for kind, namespace, name, title in rows:
        value = _short_ref(kind, namespace, name)
        choices.append(PickerChoice(value, _label(title if title != name else None, value)))
    return choices


def _ref_key(value: str, *, default_kind: str | None = None) -> tuple[str, str] | None:
    """``(kind in lower case, canonical key)`` of a ref, or None when it is no ref."""
    try:
        parsed = parse_ref(value, default_kind=default_kind)
    except (RefError, TypeError):
        return None
    return parsed.kind.lower(), parsed.key


def entity_contains(*, value: str, kinds: list[str] | None) -> bool:
    """``value`` (``kind:[namespace/]name``; the kind may be left out when only one is allowed) names an entity
    of ``kinds`` in the catalog."""
    lowered = [kind.lower() for kind in kinds or []]
    parsed = _ref_key(value, default_kind=lowered[0] if len(lowered) == 1 else None)
    if parsed is None or (lowered and parsed[0] not in lowered) or "\x00" in value:
        return False
    return entity_exists(ref=parsed[1])


def owner_choices(*, user) -> list[PickerChoice]:
    """The groups ``user`` may create data products for (``selectors.user_team_refs``: their teams; staff:
    every group), labelled with the Group entity's title where the catalog has one."""
    refs = selectors.user_team_refs(user=user)
    keys = {ref: parsed[1] for ref in refs if (parsed := _ref_key(ref, default_kind="group"))}
    titles = entity_titles(refs=set(keys.values()))
    return [PickerChoice(ref, _label(titles.get(keys.get(ref, "")), ref)) for ref in refs]


def owner_contains(*, value: str, user) -> bool:
    parsed = _ref_key(value, default_kind="group")
    if parsed is None or parsed[0] != "group":
        return False
    return parsed[1] in {
        key[1] for ref in selectors.user_team_refs(user=user) if (key := _ref_key(ref, default_kind="group"))
    }


def _domains():
    # the rule of dataproducts.projections: domains come from trusted locations, in the default namespace
    return entity_list(kinds=["domain"]).filter(namespace=DEFAULT_NAMESPACE, location__trusted=True)


def domain_choices() -> list[PickerChoice]:
    """The Domain entities of the default namespace from trusted locations, as ``domain:<name>``."""
    return _choices(_domains())


def domain_contains(*, value: str) -> bool:
    parsed = _ref_key(value, default_kind="domain")
    if parsed is None or parsed[0] != "domain" or "\x00" in value:
        return False
    return _domains().filter(ref=parsed[1]).exists()


def component_choices(*, data_product, exclude: Component | None = None) -> list[PickerChoice]:
    """The component ids of ``data_product`` (none without one), without ``exclude``: what ``dependsOn`` may
    name."""
    if data_product is None:
        return []
    queryset = Component.objects.filter(data_product=data_product, orphan=False)
    if exclude is not None and exclude.pk is not None:
        queryset = queryset.exclude(pk=exclude.pk)
    rows = queryset.order_by("name").values_list("component_id", "title", "slug")[:MAX_CHOICES]
    return [PickerChoice(component_id, _label(title or slug, component_id)) for component_id, title, slug in rows]


def _kinds(options: dict) -> list[str]:
    kinds = options.get("allowedKinds") if isinstance(options, dict) else None
    return [kind for kind in kinds if isinstance(kind, str)] if isinstance(kinds, list) else []


def picker_choices(*, picker: str, options: dict, context: PickerContext) -> list[PickerChoice]:
    """The choices of one ``ui:field`` picker for the form ``context`` describes."""
    if picker == "EntityPicker":
        return entity_choices(kinds=_kinds(options))
    if picker == "OwnerPicker":
        return owner_choices(user=context.user)
    if picker == "DomainPicker":
        return domain_choices()
    if picker == "ComponentPicker":
        return component_choices(data_product=context.data_product, exclude=getattr(context, "component", None))
    raise ValueError(f"unknown picker {picker!r}")


def picker_contains(*, picker: str, value: str, options: dict, context: PickerContext) -> bool:
    """Whether ``value`` is one of the picker's choices (checked against the catalog, so beyond MAX_CHOICES too)."""
    if picker == "EntityPicker":
        return entity_contains(value=value, kinds=_kinds(options))
    if picker == "OwnerPicker":
        return owner_contains(value=value, user=context.user)
    if picker == "DomainPicker":
        return domain_contains(value=value)
    if picker == "ComponentPicker":
        exclude = getattr(context, "component", None)
        return value in {
            choice.value for choice in component_choices(data_product=context.data_product, exclude=exclude)
        }
    raise ValueError(f"unknown picker {picker!r}")
