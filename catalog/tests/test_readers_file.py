"""Tests for the file reader: files under CATALOG_FILE_ROOTS only, symlinks resolved at every read."""

import hashlib
import os

import pytest

from catalog.readers import InvalidTarget, ReadError, ReadSession, TargetNotAllowed, TargetNotFound


@pytest.fixture
def root(settings, tmp_path):
    root = tmp_path / "catalog"
    (root / "team").mkdir(parents=True)
    (root / "catalog-info.yaml").write_text("kind: System\n")
    (tmp_path / "outside.yaml").write_text("secret: 1\n")
    settings.CATALOG_FILE_ROOTS = [root]
    settings.CATALOG_URL_MAX_BYTES = 1024
    return root


def read(target, **options):
    with ReadSession() as session:
        return session.read("file", str(target), **options)


def test_a_file_under_a_root_is_read_with_a_sha256_fingerprint(root):
    result = read(root / "catalog-info.yaml")

    assert result.content == b"kind: System\n"
    assert result.fingerprint == "sha256:" + hashlib.sha256(b"kind: System\n").hexdigest()
    assert (result.revision, result.unchanged) == ("", False)


def test_an_unchanged_file_is_reported_unchanged_and_a_changed_one_read(root):
    first = read(root / "catalog-info.yaml")

    again = read(root / "catalog-info.yaml", previous=first.fingerprint)
    (root / "catalog-info.yaml").write_text("kind: System # v2\n")
    changed = read(root / "catalog-info.yaml", previous=first.fingerprint)

    assert (again.unchanged, again.content, again.fingerprint) == (True, None, first.fingerprint)
    assert (changed.unchanged, changed.content) == (False, b"kind: System # v2\n")


def test_a_file_outside_the_roots_is_refused(root, tmp_path):
    with pytest.raises(TargetNotAllowed, match="CATALOG_FILE_ROOTS"):
        read(tmp_path / "outside.yaml")


def test_a_path_that_leaves_the_root_with_dot_dot_is_refused(root):
    with pytest.raises(TargetNotAllowed, match="CATALOG_FILE_ROOTS"):
        read(f"{root}/team/../../outside.yaml")


def test_a_sibling_folder_sharing_the_root_name_prefix_is_refused(root, tmp_path):
    (tmp_path / "catalog-evil").mkdir()
    (tmp_path / "catalog-evil" / "a.yaml").write_text("kind: System\n")
    with pytest.raises(TargetNotAllowed):
        read(tmp_path / "catalog-evil" / "a.yaml")


def test_a_symlink_under_a_root_that_points_outside_is_refused(root, tmp_path):
    (root / "team" / "link.yaml").symlink_to(tmp_path / "outside.yaml")
    (root / "escape").symlink_to(tmp_path)

    for target in [root / "team" / "link.yaml", root / "escape" / "outside.yaml"]:
        with pytest.raises(TargetNotAllowed, match="CATALOG_FILE_ROOTS"):
            read(target)


def test_a_symlink_repointed_outside_after_registration_is_refused_at_read(root, tmp_path):
    link = root / "team" / "link.yaml"
    link.symlink_to(root / "catalog-info.yaml")
    assert read(link).content == b"kind: System\n"

    link.unlink()
    link.symlink_to(tmp_path / "outside.yaml")

    with pytest.raises(TargetNotAllowed):
        read(link)


def test_a_symlink_that_stays_under_the_root_is_read(root):
    (root / "team" / "link.yaml").symlink_to(root / "catalog-info.yaml")
    assert read(root / "team" / "link.yaml").content == b"kind: System\n"


def test_a_missing_file_raises_target_not_found(root):
    with pytest.raises(TargetNotFound, match="not found"):
        read(root / "team" / "missing.yaml")


def test_a_folder_is_not_a_file(root):
    with pytest.raises(ReadError, match="not a regular file"):
        read(root / "team")


def test_a_file_over_the_size_limit_is_refused(root):
    (root / "big.yaml").write_bytes(b"x" * 2000)
    with pytest.raises(ReadError, match="2000 bytes, over the limit of 1024 bytes"):
        read(root / "big.yaml")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_a_read_error(root):
    (root / "locked.yaml").write_text("kind: System\n")
    (root / "locked.yaml").chmod(0)
    with pytest.raises(ReadError, match="Permission denied"):
        read(root / "locked.yaml")


def test_a_relative_path_is_an_invalid_target(root):
    with pytest.raises(InvalidTarget, match="absolute path"):
        read("catalog-info.yaml")


def test_no_file_is_readable_without_roots(root, settings):
    settings.CATALOG_FILE_ROOTS = []
    with pytest.raises(TargetNotAllowed):
        read(root / "catalog-info.yaml")
