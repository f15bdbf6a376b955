"""Round-trip YAML: files people wrote are changed in place, keeping their comments, quotes, key order,
indentation and each sequence's flow or block style, so that a diff shows only what changed."""

from __future__ import annotations

import io
import itertools
import posixpath

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.scalarstring import ScalarString

from catalog.models import Entity
from core.yaml import YamlError, load_all
from dataproducts.exceptions import CreationFailed, DataProductConflict
from dataproducts.layout import CATALOG_FILE


def _yaml_rt(text: str = "") -> YAML:
    """A round-trip YAML that writes with the indentation of ``text``, so that a diff shows only what changed."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line the user wrote
    mapping, offset = _indentation(text)
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    return yaml


def _indentation(text: str) -> tuple[int, int]:
    """How ``text`` indents a nested mapping, and a block sequence's dash under its key (2 and 2 by default,
    as Meshforge writes); the first example of each in the file wins."""
    mapping = offset = None
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for line, following in itertools.pairwise(lines):
        if not line.rstrip().endswith(":"):
            continue
        key_column = len(line) - len(line.lstrip()) + (2 if line.lstrip().startswith("- ") else 0)
        column = len(following) - len(following.lstrip())
        if following.lstrip().startswith("- "):
            if offset is None and column >= key_column:
                offset = column - key_column
        elif mapping is None and column > key_column:
            mapping = column - key_column
        if mapping is not None and offset is not None:
            break
    return mapping or 2, 2 if offset is None else offset


def documents_read(text: str, source: str) -> list:
    """The plain documents of a file in Git (the safe loader, with its limits); a file that cannot be read is
    the repository's problem, to fix in Git (HTTP 409)."""
    try:
        return load_all(text, source=source)
    except YamlError as exc:
        raise DataProductConflict(f"{source} in Git cannot be read ({exc}); fix it in Git first") from exc


def documents_load(text: str, source: str = CATALOG_FILE) -> list:
    """The round-trip documents of a file in Git, to change in place and write back with :func:`documents_dump`."""
    documents_read(text, source)  # the safe loader's limits first: ruamel never sees an alias bomb
    try:
        return list(_yaml_rt(text).load_all(text))
    except RuamelError as exc:
        raise DataProductConflict(f"{source} in Git cannot be edited ({exc}); fix it in Git first") from exc


def documents_dump(documents: list, text: str = "") -> str:
    """``documents`` as YAML, indented as ``text`` (the file they were loaded from) is."""
    stream = io.StringIO()
    _yaml_rt(text).dump_all(documents, stream)
    return stream.getvalue()


def entity_document(documents: list, entity: Entity):
    """The document of ``entity`` among a file's documents."""
    for document in documents:
        if (
            isinstance(document, dict)
            and str(document.get("kind", "")).lower() == entity.kind.lower()
            and isinstance(document.get("metadata"), dict)
            and str(document["metadata"].get("name", "")).lower() == entity.name.lower()
        ):
            return document
    raise CreationFailed("repository", f"{entity.ref} is no longer in its file; reload the page")


def location_targets_edit(text: str, *, add: str | None = None, remove: str | None = None) -> str | None:
    """``text`` with a target added to or removed from its (first) Location document; None when it has none."""
    documents = documents_load(text)
    location = next(
        (
            d
            for d in documents
            if isinstance(d, dict) and str(d.get("kind", "")).lower() == "location" and isinstance(d.get("spec"), dict)
        ),
        None,
    )
    if location is None:
        return None
    targets = location["spec"].get("targets")
    if not isinstance(targets, list):
        targets = location["spec"]["targets"] = []
    normalized = {posixpath.normpath(str(t)): t for t in targets}
    if add is not None and posixpath.normpath(add) not in normalized:
        targets.append(add)
    if remove is not None:
        for value in [t for t in targets if posixpath.normpath(str(t)) == posixpath.normpath(remove)]:
            targets.remove(value)
    return documents_dump(documents, text)


def path_get(document, path: str):
    """The value at a dotted ``path`` (``spec.mesh.description``), or None."""
    node = document
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def plain(value):
    """A round-trip value as plain dicts, lists and strings (to compare with, or hand to, the rest of the code)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def path_set(document, path: str, value) -> None:
    """Write ``value`` at a dotted ``path`` in place (None removes the key)."""
    parts = path.split(".")
    node = document
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            if value is None:
                return
            child = node[part] = CommentedMap()
        node = child
    if value is None:
        # a form cannot tell an empty field from a cleared one: what is already empty ("", [], {}) stays as
        # written (an adapter may need ``dependsOn: []``), and the diff shows only what the person changed
        if plain(node.get(parts[-1])) not in ("", [], {}):
            node.pop(parts[-1], None)
    elif plain(node.get(parts[-1])) != value:
        node[parts[-1]] = _merged(node.get(parts[-1]), value)


def _merged(old, new):
    """``new`` written into the round-trip node ``old`` in place, so each sequence and mapping keeps its flow or
    block style, its comments and its key order: changing one column of ``- {name: day, dataType: DATE}`` rows is
    a one-line diff, not the whole list rewritten in block style. Values equal to what is there stay untouched
    (with their quotes)."""
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        if not old and new and all(isinstance(item, dict) for item in new):
            return _rows(new)  # from [] to rows: one flow mapping per line, as Meshforge's skeletons write them
        for index, item in enumerate(new):
            if index < len(old):
                old[index] = _merged(old[index], item)
            else:
                old.append(_styled_like(item, old[index - 1] if index else None))
        del old[len(new) :]
        return old
    if isinstance(old, CommentedMap) and isinstance(new, dict):
        quoted = next((type(key) for key in old if isinstance(key, ScalarString)), None)
        for key in [key for key in old if key not in new]:
            del old[key]
        for key, value in new.items():
            if key in old:
                old[key] = _merged(old[key], value)
            else:  # a new key quoted as the keys beside it (the skeletons write JSON-like flow mappings)
                old[quoted(key) if quoted else key] = quoted(value) if quoted and isinstance(value, str) else value
        return old
    if old is not None and plain(old) == new:
        return old
    return type(old)(new) if isinstance(old, ScalarString) and isinstance(new, str) else new


def _styled_like(value, sibling):
    """A new item for a sequence, in the flow or block style (and the quoting) of the item before it."""
    if isinstance(value, dict) and isinstance(sibling, CommentedMap):
        item = CommentedMap()
        if sibling.fa.flow_style():
            item.fa.set_flow_style()
        return _quoted_like(item, value, sibling)
    return value


def _quoted_like(item: CommentedMap, value: dict, sibling: CommentedMap) -> CommentedMap:
    quoted = next((type(key) for key in sibling if isinstance(key, ScalarString)), None)
    for key, child in value.items():
        item[quoted(key) if quoted else key] = quoted(child) if quoted and isinstance(child, str) else child
    return item


def _rows(items: list[dict]) -> CommentedSeq:
    rows = CommentedSeq()
    for item in items:
        row = CommentedMap(item)
        row.fa.set_flow_style()
        rows.append(row)
    rows.fa.set_block_style()
    return rows
