"""Backstage's filter predicates (``@backstage/filter-predicates``): the ``query`` body of ``POST entities/by-query``,
``POST entity-facets``, ``POST entities/by-refs`` and ``POST locations/by-query``, checked and turned into a tree
that the selectors translate to SQL.

A predicate is ``{"$all": [...]}``, ``{"$any": [...]}``, ``{"$not": predicate}`` or an expression
``{"<dotted key>": value, ...}`` whose keys all hold (AND). A value is a string, number or boolean (equal,
case-insensitively), ``{"$in": [values]}``, ``{"$exists": bool}``, ``{"$hasPrefix": "text"}`` or
``{"$contains": value}`` (an item of a list equals the value)."""

from __future__ import annotations

from dataclasses import dataclass

MAX_NODES = 100  # conditions and operators in all: each condition is a subquery
MAX_DEPTH = 10
MAX_TEXT_LENGTH = 1000


class PredicateError(ValueError):
    """A predicate that is not one: the message names where in it (``query.$all[1].kind``)."""


@dataclass(frozen=True)
class Condition:
    """``key`` (lower-cased) compared with ``values`` (lower-cased text, any of them); ``values is None`` means "the
    key exists"; ``prefix`` compares the start of the value instead."""

    key: str
    values: tuple[str, ...] | None
    prefix: bool = False


@dataclass(frozen=True)
class AllOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Condition | AllOf | AnyOf | Not


def predicate_parse(value: object, *, path: str = "query") -> Node:
    """Check a predicate and return its tree; raises :class:`PredicateError` naming the broken part."""
    counter = [0]
    return _node(value, path, counter, 0)


def _count(counter: list[int], path: str, depth: int) -> None:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise PredicateError(f"{path}: at most {MAX_NODES} conditions and operators in all")
    if depth > MAX_DEPTH:
        raise PredicateError(f"{path}: nested more than {MAX_DEPTH} levels deep")


def _node(value: object, path: str, counter: list[int], depth: int) -> Node:
    _count(counter, path, depth)
    if not isinstance(value, dict):
        raise PredicateError(f"{path}: expected an object, got {_type(value)}")
    for operator in ("$all", "$any", "$not"):
        if operator in value:
            if len(value) != 1:
                raise PredicateError(f"{path}: {operator} must be the only key (wrap conditions in $all)")
            inner = value[operator]
            if operator == "$not":
                return Not(_node(inner, f"{path}.$not", counter, depth + 1))
            if not isinstance(inner, list):
                raise PredicateError(f"{path}.{operator}: expected a list of predicates, got {_type(inner)}")
            items = tuple(_node(item, f"{path}.{operator}[{i}]", counter, depth + 1) for i, item in enumerate(inner))
            return AllOf(items) if operator == "$all" else AnyOf(items)
    conditions = []
    for key, expected in value.items():
        where = f"{path}.{key}"
        if not isinstance(key, str) or not key or key.startswith("$") or "\n" in key or "\r" in key:
            raise PredicateError(f"{where}: not a field path (unknown operator or empty key)")
        _text(key, where)
        conditions.append(_condition(key.lower(), expected, where, counter, depth + 1))
    return conditions[0] if len(conditions) == 1 else AllOf(tuple(conditions))


def _condition(key: str, expected: object, path: str, counter: list[int], depth: int) -> Node:
    _count(counter, path, depth)
    if not isinstance(expected, dict):
        return Condition(key, (_primitive(expected, path),))
    if len(expected) != 1:
        raise PredicateError(f"{path}: expected one of $in, $exists, $hasPrefix, $contains")
    ((operator, operand),) = expected.items()
    if operator == "$exists":
        if not isinstance(operand, bool):
            raise PredicateError(f"{path}.$exists: expected true or false, got {_type(operand)}")
        return Condition(key, None) if operand else Not(Condition(key, None))
    if operator == "$in":
        if not isinstance(operand, list):
            raise PredicateError(f"{path}.$in: expected a list of values, got {_type(operand)}")
        return Condition(key, tuple(_primitive(item, f"{path}.$in[{i}]") for i, item in enumerate(operand)))
    if operator == "$hasPrefix":
        if not isinstance(operand, str):
            raise PredicateError(f"{path}.$hasPrefix: expected text, got {_type(operand)}")
        return Condition(key, (_text(operand, path).lower(),), prefix=True)
    if operator == "$contains":
        if key == "relations" and isinstance(operand, dict):
            return _relation(operand, f"{path}.$contains")
        if isinstance(operand, dict):  # a predicate on the items of a list of objects
            raise PredicateError(f"{path}.$contains: only a value is supported (an item of the list equals it)")
        return Condition(key, (_primitive(operand, f"{path}.$contains"),))
    raise PredicateError(f"{path}: unknown operator {operator!r}; expected $in, $exists, $hasPrefix or $contains")


def _relation(operand: dict, path: str) -> Condition:
    """``{"relations": {"$contains": {"type": "ownedBy", "targetRef": ...}}}``, as Backstage reads it: a relation of
    that type, to that target (a ref, or ``{"$in": [...]}``), or to any target when none is given."""
    unknown = sorted(str(key) for key in operand if key not in ("type", "targetRef"))
    if unknown:
        raise PredicateError(f"{path}.{unknown[0]}: a relation is matched on type and targetRef only")
    relation_type = operand.get("type")
    if not isinstance(relation_type, str) or not relation_type.strip():
        raise PredicateError(f"{path}.type: expected the relation type as text, e.g. ownedBy")
    key = f"relations.{_text(relation_type, f'{path}.type').strip().lower()}"
    if "targetRef" not in operand:
        return Condition(key, None)
    target = operand["targetRef"]
    if isinstance(target, dict):
        if set(target) != {"$in"} or not isinstance(target["$in"], list):
            raise PredicateError(f"{path}.targetRef: expected a ref or {{$in: [refs]}}")
        refs = enumerate(target["$in"])
        return Condition(key, tuple(_primitive(item, f"{path}.targetRef.$in[{i}]") for i, item in refs))
    return Condition(key, (_primitive(target, f"{path}.targetRef"),))


def _primitive(value: object, path: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value).lower()
    if isinstance(value, str):
        return _text(value, path).lower()
    raise PredicateError(f"{path}: expected a string, number or boolean, got {_type(value)}")


def _text(value: str, path: str) -> str:
    if "\x00" in value:
        raise PredicateError(f"{path}: must not contain NUL characters")
    if len(value) > MAX_TEXT_LENGTH:
        raise PredicateError(f"{path}: longer than {MAX_TEXT_LENGTH} characters")
    return value


def _type(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )


def filters_to_predicate(filters: list[list[tuple[str, str | None]]]) -> Node | None:
    """Backstage's ``filter`` parameters as a predicate: the sets OR together; in a set, conditions on different
    keys AND together and a repeated key ORs its values (a bare key, "exists", takes them all in)."""
    sets: list[Node] = []
    for group in filters:
        by_key: dict[str, list[str | None]] = {}
        for key, value in group:
            by_key.setdefault(key, []).append(value)
        conditions = tuple(
            Condition(key, None if None in values else tuple(dict.fromkeys(values))) for key, values in by_key.items()
        )
        sets.append(conditions[0] if len(conditions) == 1 else AllOf(conditions))
    if not sets:
        return None
    return sets[0] if len(sets) == 1 else AnyOf(tuple(sets))
