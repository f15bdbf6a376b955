"""Entity references (PRODUCT §3.1): ``[kind:][namespace/]name`` parsing and the canonical lower-case key the
catalog stores, plus the data product URNs of §1 and the System and Component refs they stand for."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = [
    "DEFAULT_NAMESPACE",
    "MAX_PART_LENGTH",
    "DataProductUrn",
    "EntityRef",
    "RefError",
    "component_urn",
    "dp_urn",
    "parse_dp_entity_name",
    "parse_ref",
    "parse_urn",
    "ref_of",
    "urn_to_ref",
]

DEFAULT_NAMESPACE = "default"

# Kind, namespace and name of an entity are each at most 63 characters, so a longer part can never name one;
# refusing it here also keeps every ref key within the 200 characters of the database columns.
MAX_PART_LENGTH = 63

# The segments of data product ids, as the DPS schema writes them (data-product-specification.cue). The
# major has no leading zeros: "01" and "1" would otherwise be two ids of one major.
_SEGMENT = r"[A-Za-z0-9_-]+"
_MAJOR = r"0|[1-9][0-9]*"
_DP_URN_RE = re.compile(rf"urn:dmb:dp:({_SEGMENT}):({_SEGMENT}):({_MAJOR})")
_COMPONENT_URN_RE = re.compile(rf"urn:dmb:cmp:({_SEGMENT}):({_SEGMENT}):({_MAJOR}):({_SEGMENT})")
_DP_NAME_RE = re.compile(rf"({_SEGMENT})\.({_SEGMENT})\.({_MAJOR})")
_COMPONENT_NAME_RE = re.compile(rf"({_SEGMENT})\.({_SEGMENT})\.({_MAJOR})\.({_SEGMENT})")


class RefError(ValueError):
    """A reference that cannot be parsed; ``str()`` gives e.g. ``entity reference "x:" has an empty name``.

    ``problem`` is the part after the quoted reference, for callers that phrase the message themselves.
    """

    def __init__(self, problem: str, text: object = None) -> None:
        # Both in args, so the error survives pickling (Celery, multiprocessing).
        super().__init__(problem, text)
        self.problem = problem
        self.text = text

    def __str__(self) -> str:
        if isinstance(self.text, str):
            return f"entity reference {_quote(self.text)} {self.problem}"
        return f"entity reference {self.problem}"


@dataclass(frozen=True, slots=True)
class EntityRef:
    """A parsed reference; the parts keep the case they were written in, ``key`` is the canonical form."""

    kind: str
    namespace: str
    name: str

    @property
    def key(self) -> str:
        """``kind:namespace/name`` in lower case: how entities and relation ends are keyed in the database."""
        return f"{self.kind}:{self.namespace}/{self.name}".lower()

    def __str__(self) -> str:
        return self.key


def parse_ref(text: str, *, default_kind: str | None = None, default_namespace: str = DEFAULT_NAMESPACE) -> EntityRef:
    """Parse ``[kind:][namespace/]name``, filling the missing kind and namespace from the defaults.

    As in Backstage, a ``/`` before the first ``:`` means that colon belongs to the name: ``ns/a:b`` is
    namespace ``ns``, name ``a:b``, no kind. Empty (or blank) parts, parts longer than 63 characters, and a
    missing kind without ``default_kind`` raise :class:`RefError`.
    """
    if not isinstance(text, str):
        raise RefError(f"must be a string, not {type(text).__name__}")
    if not text:
        raise RefError("is empty", text)
    colon = text.find(":")
    slash = text.find("/")
    if slash != -1 and slash < colon:
        colon = -1
    kind = text[:colon] if colon != -1 else None
    namespace = text[colon + 1 : slash] if slash != -1 else None
    name = text[max(colon, slash) + 1 :]
    for part, value in (("kind", kind), ("namespace", namespace), ("name", name)):
        if value is not None:
            if not value.strip():
                raise RefError(f"has an empty {part}", text)
            if len(value) > MAX_PART_LENGTH:
                raise RefError(f"has a {part} longer than {MAX_PART_LENGTH} characters", text)
    if kind is None:
        if not default_kind:
            raise RefError("has no kind, and a kind is required here (write kind:[namespace/]name)", text)
        kind = default_kind
    return EntityRef(kind=kind, namespace=namespace if namespace is not None else default_namespace, name=name)


def ref_of(document: dict) -> EntityRef:
    """The ref of an entity document, from ``kind``, ``metadata.namespace`` (default ``default``) and
    ``metadata.name``; a document without them raises :class:`RefError`."""
    if not isinstance(document, dict):
        raise RefError(f"cannot be made from {type(document).__name__}; an entity is an object")
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        raise RefError("cannot be made from a document without a metadata object")
    kind = document.get("kind")
    name = metadata.get("name")
    namespace = metadata.get("namespace")
    if namespace is None:
        namespace = DEFAULT_NAMESPACE
    for field, value in (("kind", kind), ("metadata.namespace", namespace), ("metadata.name", name)):
        if not isinstance(value, str) or not value:
            raise RefError(f"cannot be made from a document whose {field} is not a non-empty string")
    return EntityRef(kind=kind, namespace=namespace, name=name)


@dataclass(frozen=True, slots=True)
class DataProductUrn:
    """The parts of a data product id (``component`` is None) or of a component id; ``major`` is the digits."""

    domain: str
    name: str
    major: str
    component: str | None = None

    @property
    def urn(self) -> str:
        if self.component is None:
            return dp_urn(self.domain, self.name, self.major)
        return component_urn(self.domain, self.name, self.major, self.component)

    @property
    def dp_urn(self) -> str:
        return dp_urn(self.domain, self.name, self.major)

    @property
    def system_name(self) -> str:
        """The name of the System entity of the data product: ``<domain>.<name>.<major>``."""
        return f"{self.domain}.{self.name}.{self.major}"

    @property
    def entity_name(self) -> str:
        """The name of the entity the id stands for: the System's, or ``<domain>.<name>.<major>.<component>``."""
        if self.component is None:
            return self.system_name
        return f"{self.system_name}.{self.component}"

    @property
    def system_ref(self) -> EntityRef:
        return EntityRef(kind="system", namespace=DEFAULT_NAMESPACE, name=self.system_name)

    @property
    def ref(self) -> EntityRef:
        """``system:default/<d>.<n>.<major>`` or ``component:default/<d>.<n>.<major>.<c>``; URNs carry no
        namespace, so data products live in the default one."""
        if self.component is None:
            return self.system_ref
        return EntityRef(kind="component", namespace=DEFAULT_NAMESPACE, name=self.entity_name)


def dp_urn(domain: str, name: str, major: int | str) -> str:
    return f"urn:dmb:dp:{domain}:{name}:{major}"


def component_urn(domain: str, name: str, major: int | str, component: str) -> str:
    return f"urn:dmb:cmp:{domain}:{name}:{major}:{component}"


def parse_urn(urn: object) -> DataProductUrn | None:
    """The parts of ``urn:dmb:dp:<d>:<n>:<major>`` or ``urn:dmb:cmp:<d>:<n>:<major>:<c>``; None for anything
    else, including ids whose entity name would be longer than an entity name may be."""
    if not isinstance(urn, str):
        return None
    if (match := _DP_URN_RE.fullmatch(urn)) or (match := _COMPONENT_URN_RE.fullmatch(urn)):
        parts = DataProductUrn(*match.groups())
    else:
        return None
    return parts if len(parts.entity_name) <= MAX_PART_LENGTH else None


def urn_to_ref(urn: str) -> EntityRef | None:
    """The System or Component ref that a data product or component id stands for, or None."""
    parts = parse_urn(urn)
    return parts.ref if parts is not None else None


def parse_dp_entity_name(name: object, *, component: bool = False) -> DataProductUrn | None:
    """The id parts of a data product System name ``<domain>.<name>.<major>`` (or, with ``component``, of a
    Component name ``<domain>.<name>.<major>.<component>``); None when the name has another shape."""
    if not isinstance(name, str):
        return None
    match = (_COMPONENT_NAME_RE if component else _DP_NAME_RE).fullmatch(name)
    return DataProductUrn(*match.groups()) if match else None


def _quote(text: str) -> str:
    shown = text if len(text) <= 100 else text[:100] + "…"
    return json.dumps(shown, ensure_ascii=False)
