"""Safe rendering of template skeletons (PRODUCT §4.1, §11): users' values reach a cookiecutter skeleton as
data that only the ``yaml`` and ``text`` filters may write out, no hook or template extension ever runs, and
nothing leaves a temporary folder but the checked, rendered files."""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn

from binaryornot.check import is_binary
from cookiecutter.generate import generate_files
from cookiecutter.utils import create_env_with_context
from jinja2 import StrictUndefined, TemplateRuntimeError, TemplateSyntaxError, Undefined
from jinja2.exceptions import TemplateError
from jinja2.ext import Extension

from core.yaml import YamlError, load_all

__all__ = [
    "MAX_SKELETON_FILES",
    "MAX_SKELETON_FILE_BYTES",
    "SKELETON_FOLDER",
    "SkeletonFilters",
    "TemplateRenderError",
    "UserValue",
    "extension_keys",
    "skeleton_render",
]

SKELETON_FOLDER = "{{cookiecutter._target}}"
MAX_SKELETON_FILES = 500
MAX_SKELETON_FILE_BYTES = 1_048_576

# The name the rendered top folder gets inside the temporary output folder; only its contents are returned.
_TARGET = "rendered"
_HOOKS_FOLDER = "hooks"
_CONTEXT_FILE = "cookiecutter.json"
_EXTENSIONS_KEY = "_extensions"
_YAML_SUFFIXES = (".yaml", ".yml")
_FILTERS_EXTENSION = f"{__name__}.SkeletonFilters"

# cookiecutter's generate_files changes the process's working directory while it renders (utils.work_in), so
# two renders in one process must not overlap.
_RENDER_LOCK = threading.Lock()


class TemplateRenderError(Exception):
    """The skeleton of a template cannot be rendered safely or renders something invalid.

    ``template`` is the template's name; ``path`` the file at fault, relative to ``{{cookiecutter._target}}``
    for the files in it (rendered or not: ``catalog-info.yaml``) and to ``skeleton/`` for others
    (``cookiecutter.json``), or ``""`` when no file is at fault.
    """

    def __init__(self, template: str, path: str, problem: str) -> None:
        # All three in args, so the error survives pickling (Celery).
        super().__init__(template, path, problem)
        self.template = template
        self.path = path
        self.problem = problem

    def __str__(self) -> str:
        where = f"{self.path} " if self.path else ""
        return f"template {self.template}: {where}{self.problem}"


# --- user values --------------------------------------------------------------------------------------------


class _UnfilteredUserValue(TemplateRuntimeError):
    """A skeleton wrote a user value without the yaml or text filter."""


class UserValue:
    """A user's value as a skeleton sees it: it can be tested, compared, indexed and iterated (the items are
    wrapped too), but turning it into text fails unless a ``yaml`` or ``text`` filter unwraps it, so no
    template can paste raw user text into a file by mistake."""

    __slots__ = ("_mf_name", "_mf_value")

    def __init__(self, value: object, name: str) -> None:
        self._mf_value = value
        self._mf_name = name

    def _mf_refuse(self, *_args: object) -> NoReturn:
        raise _UnfilteredUserValue(
            f"{self._mf_name} is a user value and must be written through a filter: "
            f"{{{{ {self._mf_name}|yaml }}}} in YAML files, {{{{ {self._mf_name}|text }}}} elsewhere"
        )

    __str__ = _mf_refuse
    __int__ = _mf_refuse
    __float__ = _mf_refuse
    __index__ = _mf_refuse
    __format__ = _mf_refuse

    def __repr__(self) -> str:
        # Debug output (and Jinja's pprint filter) must not leak the raw value either.
        return f"<user value {self._mf_name}>"

    def __bool__(self) -> bool:
        return bool(self._mf_value)

    def __len__(self) -> int:
        return len(self._mf_value)  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        return self._mf_value == _unwrapped(other)

    def __ne__(self, other: object) -> bool:
        return self._mf_value != _unwrapped(other)

    def __hash__(self) -> int:
        return hash(self._mf_value)

    def __contains__(self, item: object) -> bool:
        return _unwrapped(item) in self._mf_value  # type: ignore[operator]

    def __getitem__(self, key: object) -> UserValue | StrictUndefined:
        name = self._mf_child_name(key)
        try:
            value = self._mf_value[key]  # type: ignore[index]
        except (LookupError, TypeError):
            # Undefined, not an exception: `is defined` and `|default(...)` work, and any other use fails.
            return StrictUndefined(hint=f"{name} is not set: the user gave no such value", name=name)
        return UserValue(value, name)

    def __iter__(self) -> Iterator[UserValue]:
        if isinstance(self._mf_value, dict):
            return (UserValue(key, f"{self._mf_name} key") for key in self._mf_value)
        return (UserValue(item, f"{self._mf_name}[{index}]") for index, item in enumerate(self._mf_value))  # type: ignore[arg-type]

    def _mf_child_name(self, key: object) -> str:
        if isinstance(key, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            return f"{self._mf_name}.{key}"
        if isinstance(key, slice):
            return f"{self._mf_name}[slice]"
        return f"{self._mf_name}[{json.dumps(key) if isinstance(key, str) else key}]"


def _unwrapped(value: object) -> object:
    return value._mf_value if isinstance(value, UserValue) else value


# --- the filters --------------------------------------------------------------------------------------------

# Characters written as escapes inside double quotes: YAML line breaks (U+0085, U+2028, U+2029), the byte order
# mark, controls, format characters (bidi overrides) and code points YAML readers refuse; everything printable
# stays readable in the diff.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def _yaml_string(text: str) -> str:
    parts = ['"']
    for char in text:
        if char in _SHORT_ESCAPES:
            parts.append(_SHORT_ESCAPES[char])
            continue
        code = ord(char)
        if 0x20 <= code < 0x7F or (code >= 0xA0 and unicodedata.category(char) not in _ESCAPED_CATEGORIES):
            parts.append(char)
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"contains a lone surrogate U+{code:04X}, which is not valid Unicode text")
        elif code <= 0xFF:
            parts.append(f"\\x{code:02X}")
        elif code <= 0xFFFF:
            parts.append(f"\\u{code:04X}")
        else:
            parts.append(f"\\U{code:08X}")
    parts.append('"')
    return "".join(parts)


def _yaml_flow(value: object, depth: int = 0) -> str:
    """``value`` as one line of YAML 1.2 (double-quoted strings, flow collections) that loads back equal."""
    if depth > 64:
        raise ValueError("is nested deeper than 64 levels")
    value = _unwrapped(value)
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)  # not str(): an enum member's str() is its name
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return float.__repr__(value)  # the shortest text that reads back to the same float, a YAML 1.2 float
    if isinstance(value, str):
        return _yaml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml_flow(item, depth + 1) for item in value) + "]"
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            key = _unwrapped(key)
            if not isinstance(key, str):
                raise ValueError(f"has a key {key!r} that is not a string; YAML keys must be strings here")
            items.append(f"{_yaml_string(key)}: {_yaml_flow(item, depth + 1)}")
        return "{" + ", ".join(items) + "}"
    raise ValueError(f"cannot be written as YAML: values of type {type(value).__name__} are not supported")


def _yaml_filter(value: object) -> str:
    try:
        return _yaml_flow(value)
    except ValueError as exc:
        raise TemplateRuntimeError(f"the yaml filter got a value that {exc}") from None


def _plain_text(value: object) -> str:
    value = _unwrapped(value)
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return ", ".join(_plain_text(item) for item in value)
    return _yaml_flow(value)


def _text_filter(value: object) -> str:
    try:
        text = _plain_text(value)
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise TemplateRuntimeError(
            f"the text filter got a value with a lone surrogate U+{ord(exc.object[exc.start]):04X}, "
            "which is not valid Unicode text"
        ) from None
    except ValueError as exc:
        raise TemplateRuntimeError(f"the text filter got a value that {exc}") from None
    return text


class SkeletonFilters(Extension):
    """The filters skeletons write values with: ``yaml`` (a single-line YAML 1.2 scalar or flow collection that
    loads back to the same value, whatever characters it holds) and ``text`` (plain text for other files)."""

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        environment.filters["yaml"] = _yaml_filter
        environment.filters["text"] = _text_filter


# --- rendering ----------------------------------------------------------------------------------------------


def skeleton_render(*, files: dict[str, bytes], values: dict, meta: dict, template_name: str) -> dict[str, str]:
    """Render a template's ``skeleton/`` tree and return the files of its ``{{cookiecutter._target}}`` folder.

    ``files`` maps POSIX paths relative to ``skeleton/`` to the files' bytes; any other value (how the caller
    passes a Git symlink or submodule) is refused. Skeletons see ``cookiecutter._values`` (the user's values,
    wrapped: see :class:`UserValue`) and ``cookiecutter._meta`` (values the service derived, plain). Hooks and
    ``hooks/`` are ignored, a top-level ``cookiecutter.json`` is only checked, and ``_extensions`` anywhere is
    refused. Every rendered ``*.yaml``/``*.yml`` must load with :func:`core.yaml.load_all`.

    Returns ``{path relative to the rendered folder: text}``; raises :class:`TemplateRenderError`.
    """

    def refuse(path: str, problem: str) -> NoReturn:
        raise TemplateRenderError(template_name, path.removeprefix(f"{SKELETON_FOLDER}/"), problem)

    if not isinstance(values, dict) or not isinstance(meta, dict):
        raise TypeError("values and meta must be dicts")
    target_files = _skeleton_target_files(files, refuse)
    context = {
        "cookiecutter": {
            "_target": _TARGET,
            "_values": UserValue(values, "cookiecutter._values"),
            "_meta": meta,
            # Ours only: a template's own _extensions were refused above, and its cookiecutter.json is not read.
            _EXTENSIONS_KEY: [_FILTERS_EXTENSION],
        }
    }
    expected = _rendered_paths(target_files, context, refuse)

    with tempfile.TemporaryDirectory(prefix="meshforge-render-") as workdir:
        repo_dir = Path(workdir, "skeleton")
        template_dir = repo_dir / SKELETON_FOLDER
        output_dir = Path(workdir, "output")
        output_dir.mkdir()
        for relative, data in target_files.items():
            path = template_dir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            # cookiecutter copies files it takes for binary without rendering them; refuse rather than surprise.
            if is_binary(str(path)):
                refuse(relative, "looks like a binary file; only UTF-8 text files can be rendered")
        try:
            with _RENDER_LOCK:
                generate_files(
                    repo_dir=repo_dir, context=context, output_dir=output_dir, accept_hooks=False
                )  # hooks never run (§11)
        except Exception as exc:
            path, problem = _render_failure(exc, set(target_files))
            refuse(path, problem)
        rendered = _rendered_files(output_dir / _TARGET, refuse)

    if set(rendered) != set(expected.values()):
        unexpected = sorted(set(rendered) ^ set(expected.values()))
        refuse(unexpected[0], "was not rendered where its path said it would be")
    for path, text in rendered.items():
        if path.lower().endswith(_YAML_SUFFIXES):
            try:
                load_all(text, source=path)
            except YamlError as exc:
                refuse(path, f"does not render valid YAML: {_yaml_problem(exc)}")
    return rendered


def _skeleton_target_files(files: object, refuse: Any) -> dict[str, bytes]:
    """The checked files inside ``{{cookiecutter._target}}``, keyed by their path inside it."""
    if not isinstance(files, dict):
        raise TypeError("files must map paths to bytes")
    if len(files) > MAX_SKELETON_FILES:
        refuse("", f"skeleton has {len(files)} files; at most {MAX_SKELETON_FILES} are allowed")
    target: dict[str, bytes] = {}
    for path, data in sorted(files.items(), key=lambda item: str(item[0])):
        if not isinstance(path, str):
            refuse(str(path), "is not a path")
        if problem := _path_problem(path):
            refuse(path, problem)
        if not isinstance(data, bytes | bytearray):
            refuse(path, "is not a regular file (symbolic links and submodules are not allowed)")
        if len(data) > MAX_SKELETON_FILE_BYTES:
            refuse(path, f"is larger than the limit of {MAX_SKELETON_FILE_BYTES // 1_048_576} MiB")
        top, _, rest = path.partition("/")
        if PurePosixPath(path).name == _CONTEXT_FILE:
            _check_context_file(path, bytes(data), refuse)
        if top == _HOOKS_FOLDER and rest:
            continue  # hooks never run, so they are not even written out
        if top == SKELETON_FOLDER and rest:
            try:
                bytes(data).decode("utf-8")
            except UnicodeDecodeError as exc:
                refuse(path, f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})")
            if b"\0" in data:
                refuse(path, "contains NUL bytes; only text files can be rendered")
            target[rest] = bytes(data)
        elif rest:
            refuse(path, f"is outside the single top folder {SKELETON_FOLDER}")
    for path in files:
        # A path that is a file and also a folder of another path cannot be written (nor come from Git).
        for parent in PurePosixPath(path).parents:
            if str(parent) in files:
                refuse(str(parent), "is both a file and a folder")
    if not target:
        refuse("", f"skeleton has no files in its top folder {SKELETON_FOLDER}")
    return target


def _path_problem(path: str) -> str | None:
    if not path:
        return "is an empty path"
    if "\\" in path or any(ord(char) < 0x20 or ord(char) == 0x7F for char in path):
        return "is not a valid path (control characters and backslashes are not allowed)"
    if path.startswith("/"):
        return "is an absolute path; skeleton paths are relative"
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "is not a plain relative path (empty, . or .. parts are not allowed)"
    if any(part.lower() == ".git" for part in parts):
        return "is inside a .git folder, which a template may not write"
    return None


def _check_context_file(path: str, data: bytes, refuse: Any) -> None:
    # _extensions names Python classes that Jinja would import and run: arbitrary code, so refused outright.
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        refuse(path, f"is not valid JSON, so it cannot be checked for {_EXTENSIONS_KEY}: {exc}")
    for key_path in extension_keys(document, ""):
        refuse(path, f"declares {key_path}; templates may not load Jinja extensions")


def extension_keys(value: object, path: str) -> Iterator[str]:
    """The paths of every ``_extensions`` key in ``value``: Python classes Jinja would import and run."""
    if isinstance(value, dict):
        for key, item in value.items():
            item_path = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and key.startswith(_EXTENSIONS_KEY):
                yield item_path
            yield from extension_keys(item, item_path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from extension_keys(item, f"{path}[{index}]")


def _rendered_paths(target_files: dict[str, bytes], context: dict, refuse: Any) -> dict[str, str]:
    """Render every file path (and each of its folders, as cookiecutter does) before cookiecutter creates
    anything, so a name that renders to an absolute path, ``..``, or a duplicate is refused first.

    Returns ``{skeleton path: rendered path}`` for the files that are written (cookiecutter skips a file whose
    name renders empty)."""
    env = create_env_with_context(context)
    rendered: dict[str, str] = {}
    rendered_dirs: dict[str, str] = {}
    for raw in target_files:
        parts = raw.split("/")
        for depth in range(1, len(parts) + 1):
            raw_prefix = "/".join(parts[:depth])
            is_file = depth == len(parts)
            if not is_file and raw_prefix in rendered_dirs:
                continue
            try:
                name = env.from_string(raw_prefix).render(**context)
            except Exception as exc:
                refuse(raw, f"has a path that fails to render: {_exception_text(exc)}")
            if is_file and (name == "" or name.endswith("/")):
                break  # an empty file name: cookiecutter's way of leaving a file out
            if problem := _path_problem(name):
                refuse(raw, f"renders to the path {json.dumps(name, ensure_ascii=False)}: {problem}")
            if is_file:
                if name in rendered.values() or name in rendered_dirs.values():
                    refuse(raw, f"renders to {json.dumps(name, ensure_ascii=False)}, a path another file also has")
                rendered[raw] = name
            else:
                if name in rendered.values():
                    refuse(raw, f"renders to {json.dumps(name, ensure_ascii=False)}, a path another file also has")
                rendered_dirs[raw_prefix] = name
    return rendered


def _rendered_files(root: Path, refuse: Any) -> dict[str, str]:
    rendered: dict[str, str] = {}
    if not root.is_dir():
        refuse("", "rendered no files")
    for folder, dirs, names in os.walk(root):
        for name in [*dirs, *names]:
            path = Path(folder, name)
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                refuse(relative, "renders to a symbolic link")
            if name in names:
                data = path.read_bytes()
                if len(data) > MAX_SKELETON_FILE_BYTES:
                    refuse(relative, f"renders larger than the limit of {MAX_SKELETON_FILE_BYTES // 1_048_576} MiB")
                try:
                    rendered[relative] = data.decode("utf-8")
                except UnicodeDecodeError:
                    refuse(relative, "does not render UTF-8 text")
    return rendered


def _render_failure(exc: BaseException, known_paths: set[str]) -> tuple[str, str]:
    """The skeleton file and line where rendering failed (found in the traceback Jinja rewrites to point into
    the template) and the problem in words."""
    path, line = "", None
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        error = getattr(current, "error", None)  # cookiecutter's UndefinedVariableInTemplate wraps Jinja's
        current = error if isinstance(error, BaseException) else (current.__cause__ or current.__context__)
    innermost = chain[-1]
    for error in chain:
        if isinstance(error, TemplateSyntaxError) and error.name in known_paths:
            path, line = error.name, error.lineno
        tb = error.__traceback__
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if filename in known_paths:
                path, line = filename, tb.tb_lineno
            tb = tb.tb_next
    message = _exception_text(innermost)
    where = f" at line {line}" if line is not None and path else ""
    if isinstance(innermost, TemplateSyntaxError):
        message = f"has a Jinja syntax error{where}: {innermost.message}"
    elif isinstance(innermost, TemplateError):
        message = f"fails to render{where}: {message}"
    else:
        message = f"fails to render{where}: {type(innermost).__name__}: {message}"
    return path, message


def _exception_text(exc: BaseException) -> str:
    if isinstance(exc, TemplateError):
        return exc.message or type(exc).__name__
    message = getattr(exc, "message", None)
    return str(message) if isinstance(message, str) else (str(exc) or type(exc).__name__)


def _yaml_problem(exc: YamlError) -> str:
    if exc.line is None:
        return exc.problem
    where = f"line {exc.line}" + (f", column {exc.column}" if exc.column is not None else "")
    return f"{where}: {exc.problem}"
