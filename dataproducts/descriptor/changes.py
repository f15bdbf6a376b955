"""What changed between two descriptors of one data product, and how much it weighs (PRODUCT §4.4, §5): a release's
version is suggested from it, a promotion is refused on a breaking change, and governance's ``breaking_change``
engine reports it.

Three levels, as semantic versioning reads them for a data product's consumers:

- ``major`` (breaking): an output port removed; a column of an output port's data contract removed, renamed (the
  old name is gone) or retyped (``dataType`` or ``scale`` changed); the contract's schema narrowed (a length or
  precision made smaller, a constraint added); an output port's type changed.
- ``minor``: additions (a component, a column, a field) and any other change of substance.
- ``patch``: descriptions and tags only.

The ``version`` fields are ignored: they change with every release."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

__all__ = ["Change", "ChangeLevel", "breaking_changes", "change_level", "descriptor_changes"]

OUTPUT_PORT = "outputport"
SIZES = ("dataLength", "precision", "scale")
COSMETIC_KEYS = frozenset({"description", "tags"})
IGNORED_KEYS = frozenset({"version"})


class ChangeLevel(IntEnum):
    PATCH = 1
    MINOR = 2
    MAJOR = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: the descriptor path it is at (in the current descriptor, or the previous one for what was
    removed), what happened in words, and its level."""

    path: str
    message: str
    level: ChangeLevel

    @property
    def breaking(self) -> bool:
        return self.level == ChangeLevel.MAJOR

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def descriptor_changes(previous: dict, current: dict) -> list[Change]:
    """Every difference from ``previous`` to ``current`` (two DPS descriptors), breaking ones first."""
    changes: list[Change] = []
    previous_components = _components(previous)
    current_components = _components(current)
    for component_id, (index, component) in previous_components.items():
        if component_id not in current_components:
            kind = component.get("kind")
            level = ChangeLevel.MAJOR if kind == OUTPUT_PORT else ChangeLevel.MINOR
            what = "output port" if kind == OUTPUT_PORT else "component"
            changes.append(Change(f"components[{index}]", f"the {what} {component_id} was removed", level))
    for component_id, (index, component) in current_components.items():
        path = f"components[{index}]"
        if component_id not in previous_components:
            changes.append(Change(path, f"the component {component_id} was added", ChangeLevel.MINOR))
            continue
        old = previous_components[component_id][1]
        if old.get("kind") == OUTPUT_PORT and component.get("kind") != OUTPUT_PORT:
            message = f"the output port {component_id} is now a {component.get('kind')}: its consumers lose it"
            changes.append(Change(f"{path}.kind", message, ChangeLevel.MAJOR))
            continue
        if component.get("kind") == OUTPUT_PORT and old.get("kind") == OUTPUT_PORT:
            changes += _output_port_changes(path, old, component)
            old = _without(old, ("dataContract", "outputPortType"))
            component = _without(component, ("dataContract", "outputPortType"))
        changes += _value_changes(path, old, component)
    changes += _value_changes("", _without(previous, ("components",)), _without(current, ("components",)))
    return sorted(changes, key=lambda change: -change.level)


def breaking_changes(previous: dict, current: dict) -> list[Change]:
    return [change for change in descriptor_changes(previous, current) if change.breaking]


def change_level(changes: list[Change]) -> ChangeLevel | None:
    """The level of a set of changes (its heaviest), or None for no change at all."""
    return max((change.level for change in changes), default=None)


# --- the parts ------------------------------------------------------------------------------------------------


def _components(descriptor: dict) -> dict[str, tuple[int, dict]]:
    components = descriptor.get("components") if isinstance(descriptor, dict) else None
    found: dict[str, tuple[int, dict]] = {}
    for index, component in enumerate(components if isinstance(components, list) else []):
        if isinstance(component, dict) and isinstance(component.get("id"), str):
            kind = component.get("kind")
            # the DPS example writes ``outputPort``; Meshforge writes ``outputport``: one kind
            found[component["id"]] = (index, {**component, "kind": kind.lower() if isinstance(kind, str) else kind})
    return found


def _without(mapping: dict, keys: tuple[str, ...]) -> dict:
    return {key: value for key, value in mapping.items() if key not in keys}


def _columns(port: dict) -> dict[str, tuple[int, dict]]:
    contract = port.get("dataContract") if isinstance(port.get("dataContract"), dict) else {}
    schema = contract.get("schema") if isinstance(contract.get("schema"), list) else []
    return {
        column["name"]: (index, column)
        for index, column in enumerate(schema)
        if isinstance(column, dict) and isinstance(column.get("name"), str)
    }


def _output_port_changes(path: str, old: dict, new: dict) -> list[Change]:
    changes: list[Change] = []
    if old.get("outputPortType") != new.get("outputPortType"):
        message = f"the output port type changed from {old.get('outputPortType')!r} to {new.get('outputPortType')!r}"
        changes.append(Change(f"{path}.outputPortType", message, ChangeLevel.MAJOR))
    old_columns, new_columns = _columns(old), _columns(new)
    schema = f"{path}.dataContract.schema"
    for name, (index, _) in old_columns.items():
        if name not in new_columns:
            changes.append(Change(f"{schema}[{index}]", f"the column {name} was removed or renamed", ChangeLevel.MAJOR))
    for name, (index, column) in new_columns.items():
        here = f"{schema}[{index}]"
        if name not in old_columns:
            changes.append(Change(here, f"the column {name} was added", ChangeLevel.MINOR))
            continue
        changes += _column_changes(here, name, old_columns[name][1], column)
    old_contract = old.get("dataContract") if isinstance(old.get("dataContract"), dict) else {}
    new_contract = new.get("dataContract") if isinstance(new.get("dataContract"), dict) else {}
    changes += _value_changes(
        f"{path}.dataContract", _without(old_contract, ("schema",)), _without(new_contract, ("schema",))
    )
    return changes


def _column_changes(path: str, name: str, old: dict, new: dict) -> list[Change]:
    changes: list[Change] = []
    if old.get("dataType") != new.get("dataType"):
        message = f"the column {name} was retyped from {old.get('dataType')} to {new.get('dataType')}"
        return [Change(f"{path}.dataType", message, ChangeLevel.MAJOR)]
    for size in SIZES:
        before, after = old.get(size), new.get(size)
        if before == after:
            continue
        widened = size != "scale" and _number(before) is not None and _number(after) is not None
        if widened and _number(after) > _number(before):  # a scale that moves changes every value: never widening
            changes.append(Change(f"{path}.{size}", f"{size} of {name} widened to {after}", ChangeLevel.MINOR))
        else:
            changes.append(
                Change(f"{path}.{size}", f"{size} of {name} changed from {before} to {after}", ChangeLevel.MAJOR)
            )
    if old.get("constraint") != new.get("constraint"):
        if new.get("constraint"):
            message = f"the column {name} gained the constraint {new.get('constraint')}"
            changes.append(Change(f"{path}.constraint", message, ChangeLevel.MAJOR))
        else:
            changes.append(Change(f"{path}.constraint", f"{name} lost its constraint", ChangeLevel.MINOR))
    rest = ("dataType", *SIZES, "constraint")
    return changes + _value_changes(path, _without(old, rest), _without(new, rest))


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value.strip()):
        return float(value)
    return None


def _value_changes(path: str, old: object, new: object) -> list[Change]:
    """The generic comparison: additions are minor, changes of descriptions and tags patch, any other change minor.
    Removals are minor too (what consumers rely on, output ports and their contracts, is compared above)."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[Change] = []
        for key in sorted(old.keys() | new.keys(), key=str):
            if key in IGNORED_KEYS:
                continue
            here = f"{path}.{key}" if path else str(key)
            if key not in old:
                changes.append(Change(here, "added", _level(key, ChangeLevel.MINOR)))
            elif key not in new:
                changes.append(Change(here, "removed", _level(key, ChangeLevel.MINOR)))
            else:
                changes += [
                    change if key not in COSMETIC_KEYS else Change(change.path, change.message, ChangeLevel.PATCH)
                    for change in _value_changes(here, old[key], new[key])
                ]
        return changes
    return [Change(path, "changed", ChangeLevel.MINOR)]


def _level(key: object, level: ChangeLevel) -> ChangeLevel:
    return ChangeLevel.PATCH if key in COSMETIC_KEYS else level
