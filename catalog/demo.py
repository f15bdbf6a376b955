"""The demo catalog of ``seed_demo``: a trusted local bare Git repository holding domains, teams, users and
three data products (plus one broken file), registered and processed through the catalog's own services."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import git
from django.conf import settings

from catalog.choices import LocationType
from catalog.models import Location
from catalog.readers import validate_target
from catalog.services import location_refresh, location_register
from core.services import OPERATOR

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
AUTHOR = git.Actor("Meshforge demo", "demo@meshforge.invalid")


def demo_repository_path() -> Path:
    return settings.MESHFORGE_GIT_ROOT / "platform" / "demo-catalog.git"


def folder_publish(source: Path, bare_path: Path, *, message: str = "Demo catalog") -> None:
    """Make the main branch of the bare repository at ``bare_path`` hold exactly the files of ``source`` (a new
    commit only if something changed; the repository is created when missing)."""
    if not bare_path.exists():
        bare_path.parent.mkdir(parents=True, exist_ok=True)
        git.Repo.init(bare_path, bare=True, initial_branch="main")
    with tempfile.TemporaryDirectory(prefix="meshforge-demo-") as work_dir:
        work = git.Repo.init(work_dir, initial_branch="main")
        work.create_remote("origin", str(bare_path))
        if git.Repo(bare_path).heads:
            work.remotes.origin.fetch("main")
            work.git.reset("--hard", "origin/main")
        for path in Path(work_dir).iterdir():
            if path.name != ".git":
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        shutil.copytree(source, work_dir, dirs_exist_ok=True)
        work.git.add("--all")
        if work.is_dirty(index=True, untracked_files=True) or not work.head.is_valid():
            work.index.commit(message, author=AUTHOR, committer=AUTHOR)
            work.remotes.origin.push("main:main")


def trusted_folder_seed(source: Path, bare_path: Path, *, message: str) -> Location:
    """Publish ``source`` into the bare repository at ``bare_path`` and register it (trusted) or, when it is
    registered already, refresh it."""
    folder_publish(source, bare_path, message=message)
    target = validate_target(LocationType.GIT, f"file://{bare_path}#main:catalog-info.yaml")
    location = Location.objects.filter(type=LocationType.GIT, target=target).first()
    if location is None:
        return location_register(type=LocationType.GIT, target=target, actor=OPERATOR, trusted=True).location
    location_refresh(location=location, actor=OPERATOR)
    return location


def demo_catalog_seed() -> Location:
    """The demo repository, published and registered (trusted), or refreshed when registered already."""
    return trusted_folder_seed(DEMO_DATA, demo_repository_path(), message="Demo catalog")


def demo_seed(*, report: Callable[[str], None]) -> None:
    """The catalog's demo hook (``CatalogConfig.demo_seed``, after core's personas: the demo teams and users name
    them): the demo repository, registered or refreshed."""
    location = demo_catalog_seed()
    report(f"Demo catalog registered from {location.target}")
