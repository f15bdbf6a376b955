"""Characters that are not seen but change what is: identifiers (names, refs, slugs) refuse them, free text keeps
them and is shown isolated (``<bdi>``, ``dir="auto"``), and messages quoting a value show them as escapes."""

from __future__ import annotations

import unicodedata

__all__ = ["invisible_character", "invisible_problem", "reveal_invisible"]

# Controls (Cc), format characters (Cf: bidi embeddings, overrides, isolates and marks, zero-width spaces and
# joiners, the byte order mark, ...), line and paragraph separators (Zl, Zp), beyond ASCII. In a name they make
# two names look alike, or reorder the text after them ("Trojan Source"); no identifier needs one. ASCII controls
# (a newline, a tab) are left to each field's own rule, and JSON shows them as escapes; lone surrogates are not
# text at all and are refused where values come in.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def invisible_character(text: str) -> str | None:
    """The first invisible character of ``text`` beyond ASCII (see _INVISIBLE_CATEGORIES), or None."""
    if text.isascii():  # the usual case, without a look at every character
        return None
    return next((char for char in text if _invisible(char)), None)


def _invisible(char: str) -> bool:
    return char > "\x7f" and unicodedata.category(char) in _INVISIBLE_CATEGORIES


def _describe(char: str) -> str:
    """``U+202E (RIGHT-TO-LEFT OVERRIDE)``; C1 controls have no name."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} ({name})" if name else f"U+{ord(char):04X}"


def invisible_problem(text: str) -> str | None:
    """A message for an identifier holding an invisible character, to follow the field's name; None if none."""
    char = invisible_character(text)
    if char is None:
        return None
    return f"contains {_describe(char)}, an invisible or direction-changing character, which is not allowed here"


def reveal_invisible(text: str) -> str:
    """``text`` with every invisible character written as ``\\u202e``, for messages that quote a value."""
    if text.isascii():
        return text
    return "".join(_escape(char) if _invisible(char) else char for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
