"""Request parsers of the API."""

import re
from collections.abc import Iterator

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser as DRFJSONParser
from rest_framework.settings import api_settings

_SURROGATE = re.compile("[\ud800-\udfff]")
# DRF's own wording for a CharField (ProhibitSurrogateCharactersValidator), so every field reads the same.
SURROGATE_MESSAGE = "Surrogate characters are not allowed: U+{code:04X}."


class JSONParser(DRFJSONParser):
    """DRF's JSON parser, except that absurd nesting (``[[[[…``) is a 400 rather than a RecursionError and a 500,
    and a lone surrogate (``"\\ud800"``, valid JSON but not Unicode text: PostgreSQL and Git cannot take it) is a
    400 naming where it is, whatever field of whatever endpoint it reaches."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            problem = next(_surrogates(data, ""), None)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply") from None
        if problem is not None:
            path, code = problem
            raise ValidationError({path or api_settings.NON_FIELD_ERRORS_KEY: [SURROGATE_MESSAGE.format(code=code)]})
        return data


def _surrogates(value: object, path: str) -> Iterator[tuple[str, int]]:
    """``(path, code point)`` of each lone surrogate in keys and strings; paths read ``values.columns[1].name``."""
    if isinstance(value, str):
        if found := _SURROGATE.search(value):
            yield path, ord(found.group())
    elif isinstance(value, dict):
        for key, item in value.items():
            child = _escaped(key)
            child = f"{path}.{child}" if path else child
            if found := _SURROGATE.search(key):
                yield child, ord(found.group())
            yield from _surrogates(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _surrogates(item, f"{path}[{index}]")


def _escaped(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
