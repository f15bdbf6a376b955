"""Policy files (issue 12 §7): one YAML document per policy with the model's fields (``name`` is the key of
import), read and written for ``governance_evaluate``, ``governance_import``, ``governance_export`` and the demo's
starter policies. Reading checks every document as the model would, without the database."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError

from core.yaml import YamlError, load_all
from governance.models import POLICY_FIELDS, Policy


class PolicyFileError(ValueError):
    """A policy file that cannot be read, naming the file, the document and the field."""


def _where(source: str, index: int, document: object) -> str:
    name = document.get("name") if isinstance(document, dict) else None
    return f"{source}, document {index}" + (f" ({name})" if isinstance(name, str) and name else "")


def policy_from_document(document: object, *, where: str) -> Policy:
    """An unsaved Policy from one document, checked as ``full_clean()`` would check it but for the uniqueness of
    its name (the database's to judge): every error names the document and the field."""
    if not isinstance(document, dict):
        raise PolicyFileError(f"{where}: a policy is a mapping of {', '.join(POLICY_FIELDS)}")
    if unknown := sorted(str(key) for key in document if key not in POLICY_FIELDS):
        raise PolicyFileError(f"{where}: unknown field {', '.join(unknown)}; a policy has {', '.join(POLICY_FIELDS)}")
    for key in ("name", "engine"):
        if not isinstance(document.get(key), str) or not document[key].strip():
            raise PolicyFileError(f"{where}: {key}: required, a string")
    if not isinstance(document.get("body"), str):
        raise PolicyFileError(f"{where}: body: required, a string (the policy in the engine's language)")
    if "description" in document and not isinstance(document["description"], str):
        raise PolicyFileError(f"{where}: description: must be a string")
    policy = Policy(**{key: value for key, value in document.items() if value is not None})
    try:
        policy.clean_fields()
        policy.clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise PolicyFileError(f"{where}: {field}: {'; '.join(messages)}") from None
    return policy


def policies_read(text: str | bytes, *, source: str) -> list[Policy]:
    """The policies of a YAML stream (unsaved), or :class:`PolicyFileError` at the first bad document."""
    try:
        documents = load_all(text, source=source)
    except YamlError as exc:
        raise PolicyFileError(str(exc)) from None
    policies = [
        policy_from_document(document, where=_where(source, index, document))
        for index, document in enumerate(documents, start=1)
    ]
    names = [policy.name for policy in policies]
    if twice := sorted({name for name in names if names.count(name) > 1}):
        raise PolicyFileError(f"{source}: name: {', '.join(twice)} given more than once")
    return policies


def policies_read_files(paths: Iterable[str | Path]) -> list[Policy]:
    """The policies of several files, in order; a name given twice across them is refused."""
    policies: list[Policy] = []
    for path in paths:
        try:
            text = Path(path).read_bytes()
        except OSError as exc:
            raise PolicyFileError(f"{path}: {exc.strerror or exc}") from None
        policies += policies_read(text, source=str(path))
    names = [policy.name for policy in policies]
    if twice := sorted({name for name in names if names.count(name) > 1}):
        raise PolicyFileError(f"name: {', '.join(twice)} given more than once")
    return policies


class _Dumper(yaml.SafeDumper):
    """Block-style YAML, a multi-line string (a policy body) as a literal block."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # a literal block cannot hold trailing spaces on a line faithfully: those bodies stay quoted
    if "\n" in value and not any(line != line.rstrip() for line in value.splitlines()):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def policies_dump(policies: Iterable[Policy]) -> str:
    """A multi-document YAML stream of the policies, each with every field of a policy file, in order."""
    return yaml.dump_all(
        [policy.snapshot() for policy in policies],
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        explicit_start=True,
        width=120,
    )
