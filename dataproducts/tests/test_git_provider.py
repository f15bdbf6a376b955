"""The local Git provider: repositories under the Git root only, one commit per write, stale bases refused."""

from __future__ import annotations

import git
import pytest

from dataproducts.gitops.provider import GitProviderError, HeadMoved, LocalGitProvider, RepositoryExists

AUTHOR = git.Actor("Alice", "alice@example.com")


@pytest.fixture
def provider(tmp_path):
    return LocalGitProvider(root=tmp_path / "git")


def test_a_repository_is_created_under_the_root_and_deleted_again(provider, tmp_path):
    url = provider.repository_create(domain="finance", name="cashflow")
    assert url == (tmp_path / "git" / "finance" / "cashflow.git").as_uri()
    assert provider.writable(url)
    with pytest.raises(RepositoryExists):
        provider.repository_create(domain="finance", name="cashflow")

    provider.repository_delete(url=url)
    assert not (tmp_path / "git" / "finance").exists()


def test_files_are_written_and_removed_in_one_commit_each(provider):
    url = provider.repository_create(domain="finance", name="cashflow")
    first = provider.commit(url=url, files={"a.yaml": "a: 1\n", "dir/b.yaml": "b: 2\n"}, message="One", author=AUTHOR)
    second = provider.commit(url=url, files={"dir/b.yaml": None}, message="Two", author=AUTHOR)

    assert [c.sha for c in provider.commits(url=url)] == [second, first]
    assert provider.commits(url=url)[0].author == "Alice"
    assert provider.file_read(url=url, path="a.yaml") == ("a: 1\n", first)
    with pytest.raises(GitProviderError):
        provider.file_read(url=url, path="dir/b.yaml")


def test_a_change_based_on_an_old_revision_of_the_file_is_refused(provider):
    url = provider.repository_create(domain="finance", name="cashflow")
    first = provider.commit(url=url, files={"a.yaml": "a: 1\n"}, message="One", author=AUTHOR)
    provider.commit(url=url, files={"other.yaml": "x: 1\n"}, message="Elsewhere", author=AUTHOR)
    provider.commit(url=url, files={"a.yaml": "a: 2\n"}, message="Mine", author=AUTHOR, base=("a.yaml", first))

    with pytest.raises(HeadMoved):
        provider.commit(url=url, files={"a.yaml": "a: 3\n"}, message="Stale", author=AUTHOR, base=("a.yaml", first))
    assert provider.file_read(url=url, path="a.yaml")[0] == "a: 2\n"


@pytest.mark.parametrize("path", ["../escape.yaml", "/etc/passwd", ".git/config", ""])
def test_paths_outside_the_repository_are_refused(provider, path):
    url = provider.repository_create(domain="finance", name="cashflow")
    with pytest.raises(GitProviderError):
        provider.commit(url=url, files={path: "x"}, message="Bad", author=AUTHOR)


def test_repositories_outside_the_root_are_not_writable(provider, tmp_path):
    git.Repo.init(tmp_path / "elsewhere.git", bare=True)
    url = (tmp_path / "elsewhere.git").as_uri()
    assert not provider.writable(url)
    assert not provider.writable("https://example.com/repo.git")
    with pytest.raises(GitProviderError):
        provider.commit(url=url, files={"a": "b"}, message="No", author=AUTHOR)
