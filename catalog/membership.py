"""Who may speak for a data product. Anyone may register a location, so a name alone proves nothing: a data product
(a System with ``spec.type: dataproduct``) counts only when it is read from its own Meshforge-created repository (any
branch of it) or from a trusted location, and a component belongs to it only when it is read from the same Git
repository as the product (whoever may write there owns the product) or from a trusted location (staff vouched for
it). The same rule settles conflicts: such a location wins an entity ref over an untrusted one (PRODUCT §3.2)."""

from __future__ import annotations

from catalog.choices import LocationType
from catalog.models import Entity, Location
from catalog.readers import InvalidTarget, parse_git_target
from catalog.refs import RefError, parse_dp_entity_name, parse_ref

NOT_VOUCHED_FOR = (
    "not taken as a data product: a data product comes only from its own repository created by Meshforge or from "
    "a trusted location, and {location} is neither (staff can adopt the repository on its location's page)"
)


def component_belongs(component: Entity, system: Entity) -> bool:
    """Whether ``component`` (naming ``system``) is part of it; both with their ``location`` loaded."""
    location = component.location
    if location is None:
        return False
    if location.trusted:  # child locations are created with their root's trust, and follow it when it changes
        return True
    system_location = system.location
    if location.type != LocationType.GIT or system_location is None or system_location.type != LocationType.GIT:
        return False
    return repository_of(component.source_target) == repository_of(system.source_target) is not None


def data_product_problem(system: Entity) -> str | None:
    """Why the data product System ``system`` (with its ``location`` loaded) is not taken as a data product, or
    None when it is: it is read from a trusted location or from its own repository."""
    location = system.location
    if location is not None and location_vouches_for(location, system.ref):
        return None
    shown = "an orphan's former location" if location is None else f"location {location}"
    return NOT_VOUCHED_FOR.format(location=shown)


def location_vouches_for(location: Location, ref: str) -> bool:
    """Whether ``location`` may speak for entity ``ref``: it is trusted, or ``ref`` is a data product (or one of its
    components) and the location reads that product's own repository."""
    if location.trusted:
        return True
    system_ref = _system_of(ref)
    return system_ref is not None and location_is_home(location, system_ref)


def location_is_home(location: Location, system_ref: str) -> bool:
    """Whether ``location`` reads (on any branch, at any path) the repository recorded as the own repository of the
    data product ``system_ref``."""
    if location.type != LocationType.GIT:
        return False
    if system_ref in location.home_of:
        return True
    repository = repository_of(location.target)
    if repository is None:
        return False
    homes = Location.objects.filter(type=LocationType.GIT, home_of__contains=[system_ref]).values_list(
        "target", flat=True
    )
    return any(repository_of(target) == repository for target in homes)


def _system_of(ref: str) -> str | None:
    """The data product System ref that ``ref`` is or is a component of (by the naming rule of PRODUCT §3.3)."""
    try:
        parsed = parse_ref(ref)
    except RefError:
        return None
    kind = parsed.kind.lower()
    if kind == "system" and parse_dp_entity_name(parsed.name) is not None:
        return parsed.key
    if kind == "component":
        identity = parse_dp_entity_name(parsed.name, component=True)
        if identity is not None:
            return f"system:{parsed.namespace}/{identity.system_name}".lower()
    return None


def repository_of(target: str) -> str | None:
    """The Git repository a ``git`` target reads, or None for a target that does not parse."""
    try:
        return parse_git_target(target).repository
    except InvalidTarget:
        return None
