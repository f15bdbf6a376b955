"""Safe YAML loading for the whole project: YAML 1.2 core-schema scalars, string keys only, and limits on
size, node count (aliases expanded) and nesting depth, with every failure reported as ``file:line:column``."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.error import Mark, MarkedYAMLError
from yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, DocumentStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

try:
    from yaml.cyaml import CParser
except ImportError:  # PyYAML built without libyaml
    CParser = None

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_NODES",
    "YamlError",
    "load",
    "load_all",
    "load_file",
]

DEFAULT_MAX_BYTES = 1_048_576
DEFAULT_MAX_NODES = 100_000
DEFAULT_MAX_DEPTH = 64

# libyaml's composer recurses on the C stack and crashes the process (segfault) somewhere between 10,000
# and 100,000 nested collections, so nesting is measured on the event stream first and max_depth is capped.
_DEPTH_CEILING = 1_000

_TAG_PREFIX = "tag:yaml.org,2002:"
_STR_TAG = _TAG_PREFIX + "str"
_INT_TAG = _TAG_PREFIX + "int"
_FLOAT_TAG = _TAG_PREFIX + "float"
_BOOL_TAG = _TAG_PREFIX + "bool"
_NULL_TAG = _TAG_PREFIX + "null"
_SEQ_TAG = _TAG_PREFIX + "seq"
_MAP_TAG = _TAG_PREFIX + "map"
_ALLOWED_TAGS = frozenset({_STR_TAG, _INT_TAG, _FLOAT_TAG, _BOOL_TAG, _NULL_TAG, _SEQ_TAG, _MAP_TAG})

# The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_NULL_RE = re.compile(r"(?:~|null|Null|NULL|)\Z")
_BOOL_RE = re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z")
_INT_RE = re.compile(r"(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z")
_FLOAT_RE = re.compile(
    r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)"
    r"|\.(?:nan|NaN|NAN))\Z"
)


class YamlError(ValueError):
    """A document that could not be loaded; ``str()`` gives ``file:line:column: problem`` (1-based)."""

    def __init__(
        self, problem: str, source: str = "<string>", line: int | None = None, column: int | None = None
    ) -> None:
        # All four in args, so the error survives pickling (Celery, multiprocessing).
        super().__init__(problem, source, line, column)
        self.source = source
        self.line = line
        self.column = column
        self.problem = problem

    def __str__(self) -> str:
        where = [self.source]
        if self.line is not None:
            where.append(str(self.line))
            if self.column is not None:
                where.append(str(self.column))
        return f"{':'.join(where)}: {self.problem}"


class _Resolver(BaseResolver):
    """Implicit tags of the YAML 1.2 core schema (BaseResolver has none, unlike PyYAML's 1.1 Resolver)."""

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        """BaseResolver.resolve for the one case that matters for speed (libyaml calls it for every scalar): a
        scalar's tag comes from its first character's resolvers when it is plain, else it is a string."""
        if kind is not ScalarNode or self.yaml_path_resolvers or None in self.yaml_implicit_resolvers:
            return super().resolve(kind, value, implicit)
        if implicit[0]:
            for tag, regexp in self.yaml_implicit_resolvers.get(value[:1], ()):
                if regexp.match(value):
                    return tag
        return self.DEFAULT_SCALAR_TAG


# Order matters within a first character: ints before floats, because the float pattern also matches "12".
_Resolver.add_implicit_resolver(_NULL_TAG, _NULL_RE, ["~", "n", "N", ""])
_Resolver.add_implicit_resolver(_BOOL_TAG, _BOOL_RE, list("tTfF"))
_Resolver.add_implicit_resolver(_INT_TAG, _INT_RE, list("-+0123456789"))
_Resolver.add_implicit_resolver(_FLOAT_TAG, _FLOAT_RE, list("-+.0123456789"))


def _scalar_error(node: Node, kind: str) -> ConstructorError:
    return ConstructorError(None, None, f"invalid {kind} {json.dumps(node.value, ensure_ascii=False)}", node.start_mark)


class _Constructor(SafeConstructor):
    """Builds only str, int, float, bool, None, list and dict; explicit tags must be valid for their value."""

    # Fresh registries, so none of SafeConstructor's tags (timestamp, binary, set, omap...) are inherited.
    yaml_constructors: dict = {}
    yaml_multi_constructors: dict = {}

    def flatten_mapping(self, node: MappingNode) -> None:
        # "<<" merge keys are YAML 1.1 only; in 1.2 they are ordinary keys.
        return

    def construct_core_null(self, node: ScalarNode) -> None:
        if not _NULL_RE.match(self.construct_scalar(node)):
            raise _scalar_error(node, "null")

    def construct_core_bool(self, node: ScalarNode) -> bool:
        value = self.construct_scalar(node)
        if not _BOOL_RE.match(value):
            raise _scalar_error(node, "boolean")
        return value[0] in "tT"

    def construct_core_int(self, node: ScalarNode) -> int:
        value = self.construct_scalar(node)
        if not _INT_RE.match(value):
            raise _scalar_error(node, "integer")
        if value.startswith("0x"):
            return int(value[2:], 16)
        if value.startswith("0o"):
            return int(value[2:], 8)
        try:
            return int(value, 10)
        except ValueError:
            # Python refuses to parse decimal strings longer than sys.get_int_max_str_digits().
            raise ConstructorError(None, None, "integer has too many digits", node.start_mark) from None

    def construct_core_float(self, node: ScalarNode) -> float:
        value = self.construct_scalar(node)
        if not _FLOAT_RE.match(value):
            raise _scalar_error(node, "float")
        lowered = value.lower()
        if lowered.endswith(".inf"):
            return -math.inf if lowered.startswith("-") else math.inf
        if lowered == ".nan":
            return math.nan
        return float(value)


_Constructor.add_constructor(_STR_TAG, SafeConstructor.construct_yaml_str)
_Constructor.add_constructor(_SEQ_TAG, SafeConstructor.construct_yaml_seq)
_Constructor.add_constructor(_MAP_TAG, SafeConstructor.construct_yaml_map)
_Constructor.add_constructor(_NULL_TAG, _Constructor.construct_core_null)
_Constructor.add_constructor(_BOOL_TAG, _Constructor.construct_core_bool)
_Constructor.add_constructor(_INT_TAG, _Constructor.construct_core_int)
_Constructor.add_constructor(_FLOAT_TAG, _Constructor.construct_core_float)
# Without a None entry PyYAML silently builds unknown tags as plain str/list/dict.
_Constructor.add_constructor(None, SafeConstructor.construct_undefined)


class _PureLoader(Reader, Scanner, Parser, Composer, _Constructor, _Resolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)


if CParser is not None:

    class _CLoader(CParser, _Constructor, _Resolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _Constructor.__init__(self)
            _Resolver.__init__(self)

    _Loader: type = _CLoader
else:
    _Loader = _PureLoader


def load_all(
    text: str | bytes,
    *,
    source: str = "<string>",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> list[object]:
    """Load every document of a YAML stream, in order.

    Documents with no content at all (an empty stream, comments only, or a bare ``---``) are skipped, so
    ``"a: 1\\n---\\n"`` gives one document; ``--- null`` or ``--- ~`` is kept as ``None``.

    Limits, all refused with :class:`YamlError` before any Python object is built:

    * ``max_bytes``: size of the UTF-8 input.
    * ``max_nodes``: every scalar, sequence and mapping (keys included) counted once per use, so an
      alias counts as a full copy of what it points to; the budget covers all documents together.
    * ``max_depth``: nesting of collections; the root collection is depth 1, scalars add nothing, and an
      alias counts at the depth where it is used. At most 1000.
    """
    return _load_stream(text, source, max_bytes, max_nodes, max_depth, single=False)


def load(
    text: str | bytes,
    *,
    source: str = "<string>",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> object:
    """Load a stream holding at most one document (``None`` if it has none); limits as in :func:`load_all`."""
    documents = _load_stream(text, source, max_bytes, max_nodes, max_depth, single=True)
    return documents[0] if documents else None


def load_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> object:
    """Load the single document of a file, as :func:`load`; errors name the path as given.

    OSError (missing file, no permission) is not a YAML problem and propagates unchanged.
    """
    source = str(path)
    if Path(path).stat().st_size > max_bytes:
        raise YamlError(_too_large(max_bytes), source=source)
    with open(path, "rb") as handle:
        # The file may have grown since stat(), or be a device that reports size 0.
        data = handle.read(max_bytes + 1)
    return load(data, source=source, max_bytes=max_bytes, max_nodes=max_nodes, max_depth=max_depth)


def _load_stream(
    text: str | bytes, source: str, max_bytes: int, max_nodes: int, max_depth: int, *, single: bool
) -> list[object]:
    if not 1 <= max_depth <= _DEPTH_CEILING:
        raise ValueError(f"max_depth must be between 1 and {_DEPTH_CEILING}, not {max_depth}")
    decoded = _decode(text, source, max_bytes)
    if len(decoded) <= _DIRECT_MAX_CHARS and "&" not in decoded and "*" not in decoded:
        documents = _load_direct(decoded, max_nodes, max_depth, single=single)
        if documents is not None:
            return documents
    loaders: list[Any] = []
    try:
        # Two passes: one over the events to measure nesting, one for the composer and constructor.
        scan = _Loader(decoded)
        loaders.append(scan)
        loader = _Loader(decoded)
        loaders.append(loader)
        _scan_events(scan, max_nodes, max_depth, source)
        nodes: list[Node] = []
        remaining = max_nodes
        while loader.check_node():
            node = loader.get_node()
            if not _is_empty_document(node):
                remaining -= _check_graph(node, max_nodes, remaining, max_depth, source)
                nodes.append(node)
        if single and len(nodes) > 1:
            raise _error_at(f"expected a single document, found {len(nodes)}", nodes[1].start_mark, source)
        return [loader.construct_document(node) for node in nodes]
    except MarkedYAMLError as exc:
        raise _from_marked(exc, source) from None
    except ReaderError as exc:
        raise _from_reader(exc, decoded, source) from None
    except yaml.YAMLError as exc:
        raise YamlError(str(exc), source=source) from None
    except RecursionError:
        raise YamlError("document is nested too deeply", source=source) from None
    finally:
        for used in loaders:
            used.dispose()


# Small inputs without anchors or aliases (nearly every catalog file) are loaded in one pass over the composed
# nodes, without the event pass: their nesting is bounded by their length, far below what libyaml's recursive
# composer survives, and nothing in them expands. Whatever that pass does not accept (a limit, a tag, a key, a
# scalar) goes through the full path, which reports it exactly as it always has.
_DIRECT_MAX_CHARS = 8192
_DIRECT_SCALARS = {
    _STR_TAG: None,  # the text itself
    _NULL_TAG: _Constructor.construct_core_null,
    _BOOL_TAG: _Constructor.construct_core_bool,
    _INT_TAG: _Constructor.construct_core_int,
    _FLOAT_TAG: _Constructor.construct_core_float,
}


class _NotDirect(Exception):
    """The direct pass leaves this input to the full path."""


def _load_direct(decoded: str, max_nodes: int, max_depth: int, *, single: bool) -> list[object] | None:
    """The documents of a small alias-free stream as the full path builds them, or None to take the full path."""
    loader = None
    try:
        loader = _Loader(decoded)
        documents = []
        remaining = max_nodes
        while loader.check_node():
            node = loader.get_node()
            if _is_empty_document(node):
                continue
            if single and documents:
                return None
            counter = [0]
            documents.append(_build(loader, node, 1, max_depth, counter))
            remaining -= counter[0]
            if remaining < 0:
                return None
        return documents
    except Exception:  # any problem is reported by the full path, in its own words
        return None
    finally:
        if loader is not None:
            loader.dispose()


def _build(loader: Any, node: Node, depth: int, max_depth: int, counter: list[int]) -> object:
    """The value of ``node`` (``depth`` is where a collection here would sit), counting nodes in ``counter``."""
    counter[0] += 1
    tag = node.tag
    if isinstance(node, ScalarNode):
        if tag not in _DIRECT_SCALARS:
            raise _NotDirect
        construct = _DIRECT_SCALARS[tag]
        return node.value if construct is None else construct(loader, node)
    if depth > max_depth:
        raise _NotDirect
    if isinstance(node, SequenceNode):
        if tag != _SEQ_TAG:
            raise _NotDirect
        return [_build(loader, child, depth + 1, max_depth, counter) for child in node.value]
    if not isinstance(node, MappingNode) or tag != _MAP_TAG:
        raise _NotDirect
    mapping: dict[str, object] = {}
    for key_node, value_node in node.value:
        # keys are the text as written, whatever it would resolve to (see _check_keys)
        if not isinstance(key_node, ScalarNode) or key_node.tag not in _ALLOWED_TAGS or key_node.value in mapping:
            raise _NotDirect
        counter[0] += 1
        mapping[key_node.value] = _build(loader, value_node, depth + 1, max_depth, counter)
    return mapping


def _decode(text: str | bytes, source: str, max_bytes: int) -> str:
    if isinstance(text, bytes | bytearray):
        if len(text) > max_bytes:
            raise YamlError(_too_large(max_bytes), source=source)
        data = bytes(text)
        try:
            decoded = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line, column = _line_column(data[: exc.start].decode("utf-8"))
            raise YamlError(
                f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                source=source,
                line=line,
                column=column,
            ) from None
    elif isinstance(text, str):
        # Every character is at least one byte, so a long str is refused before it is encoded.
        if len(text) > max_bytes:
            raise YamlError(_too_large(max_bytes), source=source)
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as exc:
            line, column = _line_column(text[: exc.start])
            raise YamlError(
                f"text is not valid Unicode (lone surrogate U+{ord(text[exc.start]):04X})",
                source=source,
                line=line,
                column=column,
            ) from None
        if size > max_bytes:
            raise YamlError(_too_large(max_bytes), source=source)
        decoded = text
    else:
        raise TypeError(f"YAML input must be str or bytes, not {type(text).__name__}")
    return decoded.removeprefix("\ufeff")


def _too_large(max_bytes: int) -> str:
    if max_bytes and max_bytes % 1_048_576 == 0:
        limit = f"{max_bytes // 1_048_576} MiB"
    elif max_bytes and max_bytes % 1024 == 0:
        limit = f"{max_bytes // 1024} KiB"
    else:
        limit = f"{max_bytes} bytes"
    return f"file is larger than the limit of {limit}"


def _scan_events(scan: Any, max_nodes: int, max_depth: int, source: str) -> None:
    """Refuse deep nesting and plainly too many nodes from the event stream, before the composer runs.

    The composer is recursive (on the C stack for libyaml), and composing a large document costs far more
    than reading its events. Every node event is at least one node once aliases are expanded, so counting
    them gives a lower bound that lets large inputs be refused early; the exact count comes from the graph.
    """
    depth = 0
    total = 0
    in_document = 0
    for event in iter(scan.get_event, None):
        if isinstance(event, DocumentStartEvent):
            in_document = 0
            continue
        if isinstance(event, CollectionEndEvent):
            depth -= 1
            continue
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > max_depth:
                raise _error_at(_too_deep(max_depth), event.start_mark, source)
        elif not isinstance(event, ScalarEvent | AliasEvent) or (depth == 0 and _is_empty_scalar(event)):
            continue
        total += 1
        in_document += 1
        if total > max_nodes:
            raise _error_at(_too_many_nodes(max_nodes, whole_stream=in_document <= max_nodes), event.start_mark, source)


def _too_many_nodes(max_nodes: int, *, whole_stream: bool) -> str:
    scope = "the documents have in total" if whole_stream else "document has"
    return f"{scope} more than {max_nodes} nodes (aliases counted as expanded)"


def _too_deep(max_depth: int) -> str:
    return f"document is nested deeper than {max_depth} levels"


def _is_empty_document(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG and _is_empty_scalar(node)


def _is_empty_scalar(item: ScalarNode | ScalarEvent) -> bool:
    """An untagged plain scalar with no text at all: what a bare ``---`` or an empty stream holds."""
    return item.value == "" and not item.style and item.start_mark.index == item.end_mark.index


def _check_graph(root: Node, max_nodes: int, remaining: int, max_depth: int, source: str) -> int:
    """Check tags and keys, and return the node count of ``root`` with aliases expanded.

    Each distinct collection is visited once and its expanded size and height are memoised by id, so a
    billion-laughs document costs as much as its text; sizes saturate just above the budget. The walk uses
    its own stack so deep documents cannot hit Python's recursion limit.
    """
    whole_stream = remaining < max_nodes
    if isinstance(root, ScalarNode):
        _check_tag(root, source)
        if remaining < 1:
            raise _error_at(_too_many_nodes(max_nodes, whole_stream=whole_stream), root.start_mark, source)
        return 1
    cap = max(remaining, 0) + 1
    sizes: dict[int, int] = {}
    heights: dict[int, int] = {}
    open_nodes: set[int] = set()
    # (node, its children, whether they have all been measured)
    stack: list[tuple[Node, list[Node], bool]] = [(root, _children(root), False)]
    while stack:
        node, children, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            size = 1
            height = 0
            for child in children:
                if isinstance(child, ScalarNode):
                    size += 1
                else:
                    size += sizes[id(child)]
                    height = max(height, heights[id(child)])
            height += 1
            if size > remaining:
                raise _error_at(_too_many_nodes(max_nodes, whole_stream=whole_stream), node.start_mark, source)
            if height > max_depth:
                raise _error_at(_too_deep(max_depth), node.start_mark, source)
            sizes[key] = min(size, cap)
            heights[key] = height
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise _error_at("recursive alias: a node contains itself", node.start_mark, source)
        _check_tag(node, source)
        if isinstance(node, MappingNode):
            _check_keys(node, source)
        open_nodes.add(key)
        stack.append((node, children, True))
        for child in reversed(children):
            if isinstance(child, ScalarNode):
                _check_tag(child, source)
            else:
                stack.append((child, _children(child), False))
    return sizes[id(root)]


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, SequenceNode):
        return node.value
    return []


def _check_tag(node: Node, source: str) -> None:
    if node.tag not in _ALLOWED_TAGS:
        tag = node.tag
        shown = "!!" + tag[len(_TAG_PREFIX) :] if tag.startswith(_TAG_PREFIX) else tag
        raise _error_at(f'tag "{shown}" is not allowed', node.start_mark, source)


def _check_keys(node: MappingNode, source: str) -> None:
    """Keys are always strings. A scalar key keeps its text whatever it would resolve to, the way JSON and
    OpenAPI read them (`200:` response codes, as real tech adapter specs write them, give "200");
    a sequence or mapping as a key is refused."""
    seen: set[str] = set()
    for key_node, _value in node.value:
        _check_tag(key_node, source)
        if isinstance(key_node, SequenceNode | MappingNode):
            kind = "sequence" if isinstance(key_node, SequenceNode) else "mapping"
            raise _error_at(f"keys must be strings, found {kind}", key_node.start_mark, source)
        key_node.tag = _STR_TAG
        if key_node.value in seen:
            raise _error_at(
                f"duplicate key {json.dumps(key_node.value, ensure_ascii=False)}", key_node.start_mark, source
            )
        seen.add(key_node.value)


def _error_at(problem: str, mark: Mark | None, source: str) -> YamlError:
    if mark is None:
        return YamlError(problem, source=source)
    return YamlError(problem, source=source, line=mark.line + 1, column=mark.column + 1)


def _from_marked(exc: MarkedYAMLError, source: str) -> YamlError:
    problem = exc.problem or exc.context or "invalid YAML"
    context_mark = exc.context_mark
    if exc.problem and exc.context:
        if exc.context.startswith("found duplicate anchor"):
            problem = "duplicate anchor"
            context = "first defined"
        else:
            context = exc.context
        if context_mark is not None:
            context = f"{context} at line {context_mark.line + 1}, column {context_mark.column + 1}"
        problem = f"{problem} ({context})"
    return _error_at(problem, exc.problem_mark or context_mark, source)


def _from_reader(exc: ReaderError, decoded: str, source: str) -> YamlError:
    character = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "\0")
    # libyaml reports a byte offset into the UTF-8 text; the pure-Python reader a character offset.
    if CParser is not None and issubclass(_Loader, CParser):
        prefix = decoded.encode("utf-8")[: exc.position].decode("utf-8", errors="replace")
    else:
        prefix = decoded[: exc.position]
    line, column = _line_column(prefix)
    return YamlError(f"character U+{character:04X} is not allowed in YAML", source=source, line=line, column=column)


def _line_column(prefix: str) -> tuple[int, int]:
    """1-based line and column of the character that follows ``prefix``."""
    line_start = prefix.rfind("\n") + 1
    return prefix.count("\n") + 1, len(prefix) - line_start + 1


def dump(data: object) -> str:
    """Block-style YAML of plain data (dicts keep their order) that ``load`` reads back to the same value."""
    return yaml.dump(data, Dumper=_SafeDumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


class _SafeDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: object) -> bool:
        return True  # a value used twice is written twice: readers of descriptors should not meet anchors


# A plain scalar is quoted when a resolver would read it as something other than a string. SafeDumper knows
# only YAML 1.1 (so "1e3", "0o17" or "+.inf" stayed plain, and ``load`` read numbers); adding the core schema
# of ``load`` quotes what either version would read as a non-string, so YAML 1.1 readers get strings too.
for _first, _resolvers in _Resolver.yaml_implicit_resolvers.items():
    for _tag, _regexp in _resolvers:
        _SafeDumper.add_implicit_resolver(_tag, _regexp, [_first])
del _first, _resolvers, _tag, _regexp
