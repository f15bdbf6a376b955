"""The catalog's source readers, free of the database: location target syntax and trust rules, and reading
``git``, ``url`` and ``file`` targets with a fingerprint that lets unchanged sources be skipped (PRODUCT §3.2)."""

from catalog.readers.base import InvalidTarget, ReadError, ReadResult, TargetNotAllowed, TargetNotFound
from catalog.readers.git_reader import read_git_folder, read_git_folders
from catalog.readers.session import ReadSession
from catalog.readers.targets import (
    DEFAULT_GIT_PATH,
    GitTarget,
    check_target_allowed,
    format_git_target,
    host_allowed,
    parse_git_target,
    resolve_target,
    validate_target,
)

__all__ = [
    "DEFAULT_GIT_PATH",
    "GitTarget",
    "InvalidTarget",
    "ReadError",
    "ReadResult",
    "ReadSession",
    "TargetNotAllowed",
    "TargetNotFound",
    "check_target_allowed",
    "format_git_target",
    "host_allowed",
    "parse_git_target",
    "read_git_folder",
    "read_git_folders",
    "resolve_target",
    "validate_target",
]
