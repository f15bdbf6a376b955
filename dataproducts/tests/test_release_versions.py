"""Release versions (``dataproducts.versions``): parsing, ordering, the next draft, the suggested stable version and
the checks of a version a person gives."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from dataproducts.descriptor.changes import ChangeLevel
from dataproducts.versions import (
    Version,
    VersionError,
    draft_version_next,
    stable_version_check,
    stable_version_suggest,
)


@pytest.mark.parametrize("text", ["0.0.0", "1.2.3", "0.1-SNAPSHOT-1", "12.0-SNAPSHOT-40"])
def test_versions_read_back_as_written(text):
    assert str(Version.parse(text)) == text


@pytest.mark.parametrize("text", ["", "1.2", "01.2.3", "1.2.3-SNAPSHOT-1", "1.2-SNAPSHOT-0", "v1.2.3", "1.2.3\x00"])
def test_anything_else_is_not_a_version(text):
    with pytest.raises(VersionError, match="is not a version"):
        Version.parse(text)


def test_drafts_of_a_minor_come_before_its_stable_release_and_numbers_order_numerically():
    ordered = ["0.0-SNAPSHOT-1", "0.0-SNAPSHOT-2", "0.0-SNAPSHOT-10", "0.0.0", "0.0.9", "0.0.10", "0.1-SNAPSHOT-1"]
    assert sorted((Version.parse(text) for text in reversed(ordered)), key=lambda v: v.sort_key) == [
        Version.parse(text) for text in ordered
    ]
    assert Version.parse("0.10.0") > Version.parse("0.9.9")


def test_the_next_draft_is_the_minor_after_the_last_stable_and_counts_up():
    assert str(draft_version_next(major=2, last_stable=None, last_snapshot=None)) == "2.0-SNAPSHOT-1"
    assert str(draft_version_next(major=2, last_stable=None, last_snapshot=3)) == "2.0-SNAPSHOT-4"
    assert str(draft_version_next(major=2, last_stable=Version.parse("2.3.1"), last_snapshot=None)) == "2.4-SNAPSHOT-1"


@pytest.mark.parametrize(
    ("last", "level", "suggested"),
    [
        (None, ChangeLevel.MINOR, "1.0.0"),
        ("1.0.0", None, "1.0.1"),
        ("1.0.0", ChangeLevel.PATCH, "1.0.1"),
        ("1.0.3", ChangeLevel.MINOR, "1.1.0"),
    ],
)
def test_the_suggestion_follows_the_change_level(last, level, suggested):
    draft = Version.parse("1.0-SNAPSHOT-2")
    last_stable = Version.parse(last) if last else None
    assert str(stable_version_suggest(draft=draft, last_stable=last_stable, level=level)) == suggested


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2.0.0", "changes the major from 1"),
        ("1.0.2", "not greater than the last stable release 1.0.2"),
        ("1.0.1", "not greater than the last stable release 1.0.2"),
        ("1.1-SNAPSHOT-1", "is a draft version"),
        ("one", "is not a version"),
    ],
)
def test_a_given_version_keeps_the_major_and_is_greater_than_the_last_stable(text, message):
    with pytest.raises(ValidationError) as refused:
        stable_version_check(text, draft=Version.parse("1.1-SNAPSHOT-1"), last_stable=Version.parse("1.0.2"))
    assert message in refused.value.message_dict["version"][0]


def test_a_given_version_that_fits_is_taken():
    checked = stable_version_check("1.0.3", draft=Version.parse("1.1-SNAPSHOT-1"), last_stable=Version.parse("1.0.2"))
    assert checked == Version.stable(1, 0, 3)
