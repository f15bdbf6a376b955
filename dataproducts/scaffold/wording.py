"""JSON Schema errors in words that read after a field's name, and patterns as sentences: people are never shown
a regular expression. The values' check speaks with these, and so does the check of a parameter's default."""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.text import invisible_problem, reveal_invisible

__all__ = ["error_message", "listed", "pattern_sentence", "shown"]


def shown(value: object) -> str:
    """``value`` quoted for a message; a bidi override quoted as typed would reorder the rest of the message, so
    invisible characters are shown as escapes."""
    return f'"{reveal_invisible(value)}"' if isinstance(value, str) else repr(value)


def listed(values: Iterable[object]) -> str:
    """``a, b, c``: the values a message lists."""
    return ", ".join(str(value) for value in values)


# --- a pattern in words: people are never shown a regular expression -------------------------------------------

_CLASS_WORDS = (  # (what the class holds, plural, singular), in the order a sentence lists them
    (frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"), "letters", "a letter"),
    (frozenset("abcdefghijklmnopqrstuvwxyz"), "lower-case letters", "a lower-case letter"),
    (frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), "upper-case letters", "an upper-case letter"),
    (frozenset("0123456789"), "digits", "a digit"),
    (frozenset("-"), "hyphens", "a hyphen"),
    (frozenset("_"), "underscores", "an underscore"),
    (frozenset("."), "dots", "a dot"),
)
_ATOM_RE = re.compile(r"(\[(?:[^\]\\]|\\.)+\]|[A-Za-z0-9_-]|\\[d.-])(\?|\*|\+|\{(\d+)(,(\d*))?\})?")


def _class_chars(atom: str) -> frozenset[str] | None:
    r"""The characters of ``[a-z0-9-]``, ``\d`` or a literal; None for anything a sentence cannot say."""
    if atom == "\\d":
        return frozenset("0123456789")
    if not atom.startswith("["):
        return frozenset(atom[-1])
    body, chars, index = atom[1:-1], set(), 0
    if body.startswith("^"):
        return None
    while index < len(body):
        char = body[index]
        if char == "\\":
            chars.add(body[index + 1])
            index += 2
        elif index + 2 < len(body) and body[index + 1] == "-":
            chars.update(chr(code) for code in range(ord(char), ord(body[index + 2]) + 1))
            index += 3
        else:
            chars.add(char)
            index += 1
    return frozenset(chars)


def _class_words(chars: frozenset[str], *, singular: bool) -> str | None:
    words, left = [], set(chars)
    for members, plural, one in _CLASS_WORDS:
        if members <= left:
            words.append(one if singular else plural)
            left -= members
    if left or not words:
        return None
    if singular:
        return " or ".join(words)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def pattern_sentence(pattern: object) -> str:
    """``^[a-z][a-z0-9-]{1,38}[a-z0-9]$`` as "use 3 to 40 lower-case letters, digits and hyphens, starting with a
    lower-case letter and ending with a lower-case letter or digit"; ``""`` for a pattern too rich to say (the
    field's ``ui:help`` speaks then)."""
    if not isinstance(pattern, str) or not pattern.startswith("^") or not pattern.endswith("$"):
        return ""
    body, atoms, index = pattern[1:-1], [], 0
    while index < len(body):
        match = _ATOM_RE.match(body, index)
        if match is None:
            return ""
        chars = _class_chars(match[1])
        if chars is None:
            return ""
        quantifier = match[2] or ""
        low, high = {"?": (0, 1), "*": (0, None), "+": (1, None), "": (1, 1)}.get(quantifier, (None, None))
        if low is None:
            low = int(match[3])
            high = low if match[4] is None else (int(match[5]) if match[5] else None)
        atoms.append((chars, low, high))
        index = match.end()
    if not atoms:
        return ""
    every = _class_words(frozenset().union(*(chars for chars, _, _ in atoms)), singular=False)
    if every is None:
        return ""
    low = sum(atom[1] for atom in atoms)
    high = None if any(atom[2] is None for atom in atoms) else sum(atom[2] for atom in atoms)
    count = f"{low} to {high} " if high is not None and high != low else f"{low} " if high == low else ""
    if high is None and low > 1:
        count = f"at least {low} "
    sentence = f"use {count}{every}"
    ends = []
    union = frozenset().union(*(chars for chars, _, _ in atoms))
    first, last = atoms[0], atoms[-1]
    if first[1] >= 1 and first[0] != union:
        ends.append(f"starting with {_class_words(first[0], singular=True)}")
    if len(atoms) > 1 and last[1] >= 1 and last[0] != union:
        ends.append(f"ending with {_class_words(last[0], singular=True)}")
    if None in ends:
        return ""
    return f"{sentence}, {' and '.join(ends)}" if ends else sentence


def _help_of(schema: object) -> str:
    help_text = schema.get("ui:help") if isinstance(schema, dict) else None
    return help_text if isinstance(help_text, str) else ""


_TYPE_WORDS = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
}


def error_message(error) -> str:
    """A jsonschema error in words that read after the field's name."""
    value = error.validator_value
    match error.validator:
        case "required":
            return "is required"
        case "type":
            return f"must be {_TYPE_WORDS.get(value, value)}"
        case "pattern":
            # a pattern makes the field an identifier (a name, a tag, a column): an invisible character in it is
            # what to name, since the value looks right in the form
            if isinstance(error.instance, str) and (problem := invisible_problem(error.instance)):
                return problem
            return pattern_sentence(value) or _help_of(error.schema) or "is not in the form this field expects"
        case "minLength":
            return f"must be at least {value} character{'s' if value != 1 else ''} long"
        case "maxLength":
            return f"must be at most {value} character{'s' if value != 1 else ''} long"
        case "enum":
            return f"must be one of: {listed(value)}"
        case "minimum":
            return f"must be at least {value}"
        case "maximum":
            return f"must be at most {value}"
        case "exclusiveMinimum":
            return f"must be greater than {value}"
        case "exclusiveMaximum":
            return f"must be less than {value}"
        case "multipleOf":
            return f"must be a multiple of {value}"
        case "minItems":
            return f"must have at least {value} item{'s' if value != 1 else ''}"
        case "maxItems":
            return f"must have at most {value} item{'s' if value != 1 else ''}"
        case "uniqueItems":
            return "lists the same value twice"
    return error.message
