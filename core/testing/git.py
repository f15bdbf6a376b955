"""A real local Git repository for tests: a bare repository (what the catalog reads through ``file://``) and
a working clone to write, commit and push from."""

from __future__ import annotations

from pathlib import Path

import git

AUTHOR = git.Actor("Test Author", "author@example.com")


class GitRepo:
    def __init__(self, root: Path, name: str = "repo", branch: str = "main"):
        self.bare_path = root / f"{name}.git"
        self.branch = branch
        self.bare = git.Repo.init(self.bare_path, bare=True, initial_branch=branch)
        self.work_path = root / f"{name}-work"
        self.work = git.Repo.init(self.work_path, initial_branch=branch)
        self.work.create_remote("origin", str(self.bare_path))

    @classmethod
    def open(cls, root: Path, name: str = "repo", branch: str = "main") -> GitRepo:
        """The repository that ``GitRepo(root, name)`` made earlier, opened anew (after its folders were copied
        back, say: a ``git.Repo`` keeps reading what it read before)."""
        repo = cls.__new__(cls)
        repo.bare_path, repo.work_path, repo.branch = root / f"{name}.git", root / f"{name}-work", branch
        repo.bare, repo.work = git.Repo(repo.bare_path), git.Repo(repo.work_path)
        return repo

    @property
    def url(self) -> str:
        return f"file://{self.bare_path}"

    def target(self, path: str = "catalog-info.yaml", branch: str | None = None) -> str:
        return f"{self.url}#{branch or self.branch}:{path}"

    def write(self, path: str, text: str | bytes) -> GitRepo:
        file = self.work_path / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(text.encode() if isinstance(text, str) else text)
        self.work.index.add([path])
        return self

    def remove(self, path: str) -> GitRepo:
        self.work.index.remove([path], working_tree=True)
        return self

    def commit(self, message: str = "Change") -> str:
        commit = self.work.index.commit(message, author=AUTHOR, committer=AUTHOR)
        self.work.remotes.origin.push(f"refs/heads/{self.branch}:refs/heads/{self.branch}")
        return commit.hexsha

    def put(self, files: dict[str, str], message: str = "Change") -> str:
        """Write several files and commit them in one go."""
        for path, text in files.items():
            self.write(path, text)
        return self.commit(message)
