"""File locations: a local file under one of CATALOG_FILE_ROOTS, checked again at every read."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

from django.conf import settings

from catalog.readers.base import ReadError, ReadResult, TargetNotFound, result, size_error
from catalog.readers.targets import check_under_file_roots, validate_target

__all__ = ["read_file"]


def read_file(target: str, *, previous: str | None = None) -> ReadResult:
    # Resolved again here, not only when registered: a symlink may have been pointed elsewhere since.
    path = check_under_file_roots(Path(validate_target("file", target)))
    max_bytes = settings.CATALOG_URL_MAX_BYTES
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise ReadError(f"{path} is not a regular file")
        if status.st_size > max_bytes:
            raise size_error(str(path), max_bytes, status.st_size)
        with path.open("rb") as handle:
            content = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise TargetNotFound(f"{path} not found") from None
    except OSError as exc:
        raise ReadError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(content) > max_bytes:  # grew after stat
        raise size_error(str(path), max_bytes)
    return result(content, f"sha256:{hashlib.sha256(content).hexdigest()}", previous)
