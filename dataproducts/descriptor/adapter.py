"""Adapter readiness, strict (PRODUCT §4.3: writing is strict where reading is lenient): whether a public Witboost
tech adapter would accept a descriptor, by the JSON Schema of the adapters' models
(``dataproducts/schemas/witboost_scaffold.schema.json``) on top of the DPS rules of
:mod:`dataproducts.descriptor.validate`, and the verdict a descriptor's page shows."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaViolation

from core.problems import SCHEMA_TYPE_NAMES, Problem, join_path, messages, show, type_name
from dataproducts.descriptor.validate import component_descriptor_problems, is_wrapper

__all__ = [
    "ADAPTER_CODE",
    "ADAPTER_SCHEMA_PATH",
    "NO_COMPONENTS_PROBLEM",
    "AdapterVerdict",
    "descriptor_adapter_problems",
    "descriptor_adapter_ready_problems",
    "descriptor_adapter_verdict",
]

# The code of what only the tech adapters' models refuse; the DPS rules keep their own codes.
ADAPTER_CODE = "adapter"
ADAPTER_SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "witboost_scaffold.schema.json"
# What descriptor_validate says of a product without components; the Descriptor tab reads it as "incomplete".
NO_COMPONENTS_PROBLEM = "components: must list at least one component"
_SIZE_FIELDS = ("dataLength", "precision", "scale")


def descriptor_adapter_ready_problems(document: object) -> list[Problem]:
    """Every reason a public Witboost tech adapter would refuse ``document`` (a bare descriptor or the wrapper
    ``{dataProduct, componentIdToProvision}``); empty when it is adapter-ready. All are errors: what the adapters
    refuse is coded ``adapter``, the DPS rules keep their own codes.

    Writing is strict where reading is lenient (PRODUCT §4.3): the DPS rules of :func:`component_descriptor_problems`
    apply, and on top of them the JSON Schema of the adapters' models (``ADAPTER_SCHEMA_PATH``) and the rules that
    relate two values of a column. A field is reported once: the more specific adapter message wins.
    """
    wrapped = is_wrapper(document)
    problems = [_schema_problem(error) for error in _adapter_validator(wrapped=wrapped).iter_errors(document)]
    dp = document.get("dataProduct") if wrapped and isinstance(document, dict) else document
    problems += _column_size_problems(dp, "dataProduct" if wrapped else "")
    problems.sort(key=lambda problem: _path_sort_key(problem.path))
    reported = {problem.path for problem in problems}
    problems += [p for p in component_descriptor_problems(document) if p.path not in reported]
    # The same text twice says nothing new (a schema may find one fault by two rules): the first one stays.
    unique: dict[str, Problem] = {}
    for problem in problems:
        unique.setdefault(str(problem), problem)
    return list(unique.values())


def descriptor_adapter_problems(document: object) -> list[str]:
    """:func:`descriptor_adapter_ready_problems` as ``"path: message"`` texts."""
    return messages(descriptor_adapter_ready_problems(document))


@dataclass(frozen=True, slots=True)
class AdapterVerdict:
    """What a descriptor's page says of it: ``valid`` (adapter-ready), ``incomplete`` (a data product with no
    component yet: nothing to deploy, nothing wrong) or ``invalid``, with the problems to fix."""

    state: str
    problems: tuple[str, ...]


def descriptor_adapter_verdict(descriptor: object, *, other_problems: Iterable[str] = ()) -> AdapterVerdict:
    """The verdict on a built descriptor: :func:`descriptor_adapter_problems`, then ``other_problems`` (such as an
    environment file that does not parse) on fields not already reported. A product whose only problem is that
    it has no component yet is ``incomplete``, not ``invalid``: a new product is not broken."""
    problems = descriptor_adapter_problems(descriptor)
    reported = {_problem_path(problem) for problem in problems}
    problems += [problem for problem in other_problems if _problem_path(problem) not in reported]
    problems = list(dict.fromkeys(problems))
    if not problems:
        return AdapterVerdict("valid", ())
    no_components = isinstance(descriptor, dict) and descriptor.get("components") == []
    if no_components and problems == [NO_COMPONENTS_PROBLEM]:
        return AdapterVerdict("incomplete", ())
    return AdapterVerdict("invalid", tuple(problems))


@functools.cache
def _adapter_validator(*, wrapped: bool) -> Draft202012Validator:
    """The schema's validator for a DATAPRODUCT_DESCRIPTOR, or for a COMPONENT_DESCRIPTOR when ``wrapped``."""
    schema = json.loads(ADAPTER_SCHEMA_PATH.read_text(encoding="utf-8"))
    if wrapped:
        schema["$ref"] = "#/$defs/componentDescriptor"
    return Draft202012Validator(schema)


def _schema_problem(error: SchemaViolation) -> Problem:
    """One jsonschema error as a problem in the words of :func:`descriptor_problems`."""
    path = _schema_path(error.absolute_path)
    if error.validator == "required":
        missing = next(
            (key for key in error.validator_value if key not in error.instance and repr(key) in error.message), None
        )
        field = join_path(path, missing) if missing is not None else path or "descriptor"
        data_type = error.instance.get("dataType") if isinstance(error.instance, dict) else None
        if missing in _SIZE_FIELDS and isinstance(data_type, str):
            return _adapter_problem(field, f"required for {data_type.upper()}")
        return _adapter_problem(field, "is required")
    where = path or "descriptor"
    if error.validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        names = " or ".join(SCHEMA_TYPE_NAMES.get(name, name) for name in expected)
        return _adapter_problem(where, f"must be {names}, not {type_name(error.instance)}")
    if error.validator == "enum":
        expected = ", ".join(error.validator_value)
        return _adapter_problem(where, f"{show(error.instance)} is not valid; expected one of {expected}")
    if error.validator == "const":
        return _adapter_problem(where, f"{show(error.instance)} is not valid; expected {show(error.validator_value)}")
    if error.validator == "pattern" and error.schema.get("description"):
        return _adapter_problem(where, f"{show(error.instance)} is not valid; expected {error.schema['description']}")
    return _adapter_problem(where, error.message)


def _adapter_problem(path: str, message: str) -> Problem:
    return Problem(path, message, code=ADAPTER_CODE)


def _schema_path(parts: Iterable[object]) -> str:
    path = ""
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else join_path(path, str(part))
    return path


def _column_size_problems(dp: object, path: str) -> list[Problem]:
    """What a schema cannot say of a column's sizes: a length or precision of at least 1, a scale between 0 and
    the precision, and no scale without a precision (``DECIMAL(12,2)``, not ``DECIMAL(,2)``)."""
    problems: list[Problem] = []
    for column_path, column in _columns(dp, path):
        sizes = {key: column.get(key) for key in _SIZE_FIELDS}
        if any(not (value is None or _is_int(value)) for value in sizes.values()):
            continue  # the schema reports the wrong type
        for key in ("dataLength", "precision"):
            if sizes[key] is not None and sizes[key] < 1:
                problems.append(_adapter_problem(f"{column_path}.{key}", f"must be at least 1, not {sizes[key]}"))
        precision, scale = sizes["precision"], sizes["scale"]
        if scale is None:
            continue
        if scale < 0:
            problems.append(_adapter_problem(f"{column_path}.scale", f"must be at least 0, not {scale}"))
        elif precision is None:
            problems.append(_adapter_problem(f"{column_path}.scale", "needs a precision (the total number of digits)"))
        elif precision >= 1 and scale > precision:
            problems.append(_adapter_problem(f"{column_path}.scale", f"{scale} is more than the precision {precision}"))
    return problems


def _columns(dp: object, path: str) -> Iterator[tuple[str, dict]]:
    """``(path, column)`` of every output port's contract column that is an object."""
    components = dp.get("components") if isinstance(dp, dict) else None
    for index, component in enumerate(components if isinstance(components, list) else []):
        contract = component.get("dataContract") if isinstance(component, dict) else None
        schema = contract.get("schema") if isinstance(contract, dict) else None
        for position, column in enumerate(schema if isinstance(schema, list) else []):
            if isinstance(column, dict):
                yield f"{join_path(path, 'components')}[{index}].dataContract.schema[{position}]", column


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _problem_path(problem: str) -> str:
    return problem.split(": ", 1)[0]


def _path_sort_key(path: str) -> list[object]:
    """Paths in document order: ``components[10]`` after ``components[9]``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"\[(\d+)\]", path)]
