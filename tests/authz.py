"""The machinery of the authorization matrix (the table itself is ``tests/authz_matrix.py``): every URL pattern
of ``config.urls``, the URL of each pattern in the world of ``tests/world.py``, and one request per case."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, resolve

PERSONAS = ("anonymous", "carol", "bob", "alice", "platform")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Redirects that the table names by where they go, so that "302" never hides a redirect to the wrong place.
LOGIN = "login"  # 302 to the login page (a page asked for by someone not signed in)
ADMIN_LOGIN = "admin-login"  # 302 to the admin's login page (the admin asked for by someone not staff)
REDIRECT = "redirect"  # 302 anywhere else (a form that did its work, the login page of someone signed in)
REDIRECT_TARGETS = {LOGIN: "/accounts/login/", ADMIN_LOGIN: "/admin/login/"}

_PATH_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_PARAM = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


@dataclass(frozen=True)
class Pattern:
    """One URL pattern: ``key`` is its namespaced name (``catalog:home``), or its route when it has no name."""

    key: str
    route: str
    callback: object

    @property
    def is_admin(self) -> bool:
        return self.route.startswith("admin/")

    def url(self, kwargs: dict[str, str]) -> str:
        """The path of this pattern with ``kwargs`` filled in; checked to resolve back to this very pattern."""
        missing = set(self.parameters) - set(kwargs)
        if missing:
            raise LookupError(f"{self.key}: no value for {', '.join(sorted(missing))}")
        # regex groups first: their names are in angle brackets too
        path = _REGEX_PARAM.sub(lambda match: str(kwargs[match["name"]]), self.route)
        path = _PATH_PARAM.sub(lambda match: str(kwargs[match["name"]]), path)
        path = "/" + path.replace("^", "").replace("$", "")
        found = resolve(path)
        if found.func is not self.callback:
            raise LookupError(f"{self.key}: {path} resolves to {found.view_name or found.route}, not to this pattern")
        return path

    @property
    def parameters(self) -> list[str]:
        route = _REGEX_PARAM.sub("", self.route)
        return [match["name"] for match in (*_REGEX_PARAM.finditer(self.route), *_PATH_PARAM.finditer(route))]


def url_patterns() -> list[Pattern]:
    """Every pattern of the root URL configuration, includes walked recursively."""

    def walk(resolver: URLResolver, prefix: str, namespaces: tuple[str, ...]) -> Iterator[Pattern]:
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                yield from walk(entry, route, (*namespaces, entry.namespace) if entry.namespace else namespaces)
            elif isinstance(entry, URLPattern):
                key = ":".join((*namespaces, entry.name)) if entry.name else route
                yield Pattern(key=key, route=route, callback=entry.callback)

    return list(walk(get_resolver(), "", ()))


ADMIN_MODEL_ROUTE = re.compile(r"^admin/(?P<app>\w+)/(?P<model>\w+)/(?P<rest>.*)$")
# The admin's pages of one model, by what is left of the route after admin/<app>/<model>/.
ADMIN_MODEL_PAGES = {
    "": "changelist",
    "add/": "add",
    "<path:object_id>/history/": "history",
    "<path:object_id>/delete/": "delete",
    "<path:object_id>/change/": "change",
    "<path:object_id>/": "object",
}


def admin_model_page(pattern: Pattern) -> tuple[str, str] | None:
    """``("core.apitoken", "change")`` for a page of a model's admin; None for the site's own admin pages."""
    match = ADMIN_MODEL_ROUTE.match(pattern.route)
    if match is None or match["rest"] not in ADMIN_MODEL_PAGES:
        return None
    label = f"{match['app']}.{match['model']}"
    if label not in {model._meta.label_lower for model in admin.site._registry}:
        return None
    return label, ADMIN_MODEL_PAGES[match["rest"]]


class GitSnapshot:
    """The Git repositories under ``root`` as they are now, to put back those a request committed to: the database
    of a case is rolled back, and its repositories must go back with it. Checking costs a few small reads."""

    def __init__(self, root: Path, keep: Path):
        self.root, self.keep = root, keep
        self.directories = sorted(path.parent for path in root.rglob("HEAD") if (path.parent / "objects").is_dir())
        for directory in self.directories:
            shutil.copytree(directory, keep / directory.relative_to(root), symlinks=True)
        self.state = self._state()

    def _state(self) -> dict[Path, tuple]:
        """What each repository's branches point at: a commit anywhere changes it."""
        state = {}
        for directory in self.directories:
            refs = sorted(
                (path.relative_to(directory), path.read_bytes())
                for path in (directory / "refs").rglob("*")
                if path.is_file()
            )
            packed = directory / "packed-refs"
            state[directory] = (tuple(refs), packed.read_bytes() if packed.exists() else b"")
        return state

    def restore(self) -> None:
        for directory, refs in self._state().items():
            if refs != self.state[directory]:
                shutil.rmtree(directory)
                shutil.copytree(self.keep / directory.relative_to(self.root), directory, symlinks=True)
