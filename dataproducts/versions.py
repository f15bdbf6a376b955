"""Release versions of a data product (PRODUCT §4.4): a draft ``X.Y-SNAPSHOT-N``, a stable ``X.Y.Z``, how they
order, which version the next draft takes and which stable version a promotion suggests.

X is always the product's major (it is in the product's id). A draft of X.Y works towards the stable X.Y.0 or a
patch of the last stable; drafts of one X.Y count N up from 1 and are never overwritten."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from dataproducts.descriptor.changes import ChangeLevel

__all__ = ["Version", "VersionError", "draft_version_next", "stable_version_check", "stable_version_suggest"]

_STABLE_RE = re.compile(r"(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})")
_DRAFT_RE = re.compile(r"(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})-SNAPSHOT-([1-9][0-9]{0,8})")


class VersionError(ValueError):
    """Text that is not a release version."""


@dataclass(frozen=True, slots=True)
class Version:
    """A release version: stable when ``patch`` is set, a draft (``snapshot`` = N) otherwise."""

    major: int
    minor: int
    patch: int | None = None
    snapshot: int | None = None

    @classmethod
    def parse(cls, text: str) -> Version:
        """``X.Y.Z`` or ``X.Y-SNAPSHOT-N`` (no leading zeros, N from 1); VersionError for anything else."""
        if isinstance(text, str):
            if match := _STABLE_RE.fullmatch(text):
                return cls(*(int(part) for part in match.groups()))
            if match := _DRAFT_RE.fullmatch(text):
                major, minor, snapshot = (int(part) for part in match.groups())
                return cls(major, minor, snapshot=snapshot)
        raise VersionError(f"{text!r} is not a version: expected X.Y.Z such as 1.2.0, or a draft X.Y-SNAPSHOT-N")

    @classmethod
    def stable(cls, major: int, minor: int, patch: int) -> Version:
        return cls(major, minor, patch=patch)

    @classmethod
    def draft(cls, major: int, minor: int, snapshot: int) -> Version:
        return cls(major, minor, snapshot=snapshot)

    @property
    def is_stable(self) -> bool:
        return self.patch is not None

    @property
    def sort_key(self) -> tuple[int, int, int, int]:
        """Drafts of X.Y come before X.Y.0 (they work towards it), stable versions in numeric order."""
        if self.is_stable:
            return (self.major, self.minor, 1, self.patch)
        return (self.major, self.minor, 0, self.snapshot or 0)

    def __lt__(self, other: Version) -> bool:
        return self.sort_key < other.sort_key

    def __le__(self, other: Version) -> bool:
        return self.sort_key <= other.sort_key

    def __gt__(self, other: Version) -> bool:
        return self.sort_key > other.sort_key

    def __ge__(self, other: Version) -> bool:
        return self.sort_key >= other.sort_key

    def __str__(self) -> str:
        if self.is_stable:
            return f"{self.major}.{self.minor}.{self.patch}"
        return f"{self.major}.{self.minor}-SNAPSHOT-{self.snapshot}"

    @property
    def tag(self) -> str:
        """The Git tag of a stable version."""
        return f"v{self}"


def draft_version_next(*, major: int, last_stable: Version | None, last_snapshot: int | None) -> Version:
    """The next draft of a product of ``major``: X.Y-SNAPSHOT-N with Y the last stable minor (of that major) + 1,
    or 0 before any stable release, and N one more than the last draft of that X.Y (``last_snapshot``)."""
    minor = last_stable.minor + 1 if last_stable is not None else 0
    return Version.draft(major, minor, (last_snapshot or 0) + 1)


def stable_version_suggest(*, draft: Version, last_stable: Version | None, level: ChangeLevel | None) -> Version:
    """The stable version a promotion of ``draft`` suggests: the first stable of a major is X.Y.0 of the draft's
    X.Y; after that the change level against the last stable decides (patch or none: Z+1; minor: Y+1.0). A major
    change is not promoted within a major at all (the caller refuses it first)."""
    if last_stable is None:
        return Version.stable(draft.major, draft.minor, 0)
    if level is not None and level >= ChangeLevel.MINOR:
        return Version.stable(last_stable.major, last_stable.minor + 1, 0)
    return Version.stable(last_stable.major, last_stable.minor, (last_stable.patch or 0) + 1)


def stable_version_check(text: str, *, draft: Version, last_stable: Version | None) -> Version:
    """A stable version asked for by a person: X.Y.Z, the draft's major, greater than the last stable release of that
    major. ValidationError naming ``version`` otherwise."""
    try:
        version = Version.parse(text)
    except VersionError as exc:
        raise ValidationError({"version": [str(exc)]}, code="invalid") from exc
    if not version.is_stable:
        raise ValidationError(
            {"version": [f"{version} is a draft version; a stable release is X.Y.Z such as {draft.major}.0.0"]},
            code="invalid",
        )
    if version.major != draft.major:
        raise ValidationError(
            {
                "version": [
                    f"{version} changes the major from {draft.major}: a release keeps the data product's major "
                    f"(a new major is a new data product)"
                ]
            },
            code="major",
        )
    if last_stable is not None and not version > last_stable:
        raise ValidationError(
            {"version": [f"{version} is not greater than the last stable release {last_stable}"]}, code="order"
        )
    return version
