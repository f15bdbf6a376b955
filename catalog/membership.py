"""Which components are part of a data product. A component names its data product in ``spec.system``, but anyone
may register a location, so the name alone would let them add parts to another team's product: a component
belongs only when it is read from the data product's own Git repository (whoever may write there owns the
product) or from a trusted location (staff vouched for it)."""

from __future__ import annotations

from catalog.choices import LocationType
from catalog.models import Entity
from catalog.readers import InvalidTarget, parse_git_target


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
    try:
        return parse_git_target(component.source_target).repository == parse_git_target(system.source_target).repository
    except InvalidTarget:
        return False
