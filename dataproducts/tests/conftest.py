"""Fixtures for the Builder: a Git root and catalog mirrors per test, the built-in templates registered from a
trusted repository, the finance and marketing domains, and a helper that creates data products through the
service."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import override_settings

from catalog.demo import folder_publish
from catalog.models import Location
from catalog.services import location_register
from core.services import OPERATOR
from core.testing.git import GitRepo
from dataproducts import selectors, services, testing
from dataproducts.demo import BUILTIN_TEMPLATES

DOMAINS_YAML = """\
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata: {name: finance, title: Finance}
spec: {owner: group:finance}
---
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata: {name: marketing, title: Marketing}
spec: {owner: group:marketing}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec: {profile: {displayName: Alice}, memberOf: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: bob}
spec: {profile: {displayName: Bob}, memberOf: []}
"""


@pytest.fixture(autouse=True)
def builder_dirs(request, settings, tmp_path):
    """Each test has a Git root and catalog mirrors of its own: in a module that shares data products created
    through Git (``shared_git``), the module's, as they were when those products were made."""
    settings.CATALOG_URL_ALLOWED_HOSTS = []
    if "shared_git" in request.fixturenames:
        shared = request.getfixturevalue("shared_git")
        shared.restore()
        settings.MESHFORGE_GIT_ROOT, settings.CATALOG_MIRROR_DIR = shared.git_root, shared.mirrors
        return
    settings.MESHFORGE_GIT_ROOT = tmp_path / "git"
    settings.CATALOG_MIRROR_DIR = tmp_path / "mirrors"


class SharedGit:
    """A module's Git root and catalog mirrors (``live``), with a copy (``saved``) of them as the module's data was
    built: each test starts from that copy, as its database starts from the module's transaction."""

    def __init__(self, folder: Path):
        self.live, self.saved = folder / "live", folder / "saved"
        self.git_root, self.mirrors = self.live / "git", self.live / "mirrors"
        for path in (self.git_root, self.mirrors):
            path.mkdir(parents=True)

    def save(self) -> None:
        shutil.rmtree(self.saved, ignore_errors=True)
        shutil.copytree(self.live, self.saved, symlinks=True)

    def restore(self) -> None:
        shutil.rmtree(self.live)
        shutil.copytree(self.saved, self.live, symlinks=True)

    @contextmanager
    def building(self):
        """Build module data in here: from the last saved state, saved again at the end."""
        self.restore()
        with override_settings(MESHFORGE_GIT_ROOT=self.git_root, CATALOG_MIRROR_DIR=self.mirrors):
            yield
        self.save()


@pytest.fixture(scope="session")
def templates_published(tmp_path_factory):
    """The built-in templates committed once per run to a bare repository, which each test copies: the commit
    is the same for every test, and copying a folder costs far less than a commit and a push."""
    bare = tmp_path_factory.mktemp("builtin-templates") / "templates.git"
    folder_publish(BUILTIN_TEMPLATES, bare, message="Built-in templates")
    return bare


@pytest.fixture(scope="session")
def domains_published(tmp_path_factory):
    """The domains' repository, committed once per run; each test that wants it copies it (see ``domains``)."""
    repo = GitRepo(tmp_path_factory.mktemp("platform-domains"), "platform-domains")
    repo.put({"catalog-info.yaml": DOMAINS_YAML})
    return repo.bare_path


@pytest.fixture
def templates_location(request, db, settings, templates_published):
    """The built-in templates, published to a trusted local repository and registered (in a module sharing its
    Git, ``templates_location_shared``)."""
    if "shared_git" in request.fixturenames:
        return request.getfixturevalue("templates_location_shared")
    bare = settings.MESHFORGE_GIT_ROOT / "platform" / "templates.git"
    shutil.copytree(templates_published, bare)
    result = location_register(type="git", target=f"file://{bare}#main:catalog-info.yaml", actor=OPERATOR, trusted=True)
    assert not result.errors, result.errors
    return result.location


@pytest.fixture(scope="module")
def templates_registered(django_db_setup, django_db_blocker, tmp_path_factory, templates_published):
    """The built-in templates registered once for a module, in a transaction rolled back at its end (as Django's
    ``setUpTestData``): each test runs in a savepoint inside it. Only for modules whose tests neither commit nor
    flush the database (``transactional_db`` would empty it for the tests after); they opt in by overriding
    ``templates_location`` with ``templates_location_shared``. The id of the location and the catalog mirrors it
    was read into."""
    folder = tmp_path_factory.mktemp("templates-shared")
    bare = folder / "templates.git"
    shutil.copytree(templates_published, bare)
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(CATALOG_MIRROR_DIR=folder / "mirrors"):
            target = f"file://{bare}#main:catalog-info.yaml"
            result = location_register(type="git", target=target, actor=OPERATOR, trusted=True)
        assert not result.errors, result.errors
        yield result.location.pk, folder / "mirrors"
        transaction.set_rollback(True)


@pytest.fixture
def templates_location_shared(db, settings, templates_registered):
    """What ``templates_location`` provides, registered once per module (see ``templates_registered``). The
    module's mirror of the templates is copied into this test's mirrors, so rendering fetches into it rather than
    cloning anew."""
    pk, mirrors = templates_registered
    shutil.copytree(mirrors, settings.CATALOG_MIRROR_DIR, dirs_exist_ok=True)
    return Location.objects.get(pk=pk)


@pytest.fixture(scope="module")
def shared_git(shared_catalog, templates_registered, tmp_path_factory):
    """For a module whose tests start from data products created through the services (cookiecutter, Git,
    processing) rather than each creating its own: the module's Git root and catalog mirrors (see
    :class:`SharedGit`), with the built-in templates registered from Git and the domains from a file. A module
    fixture builds the products ``with shared_git.building():``; every test then starts from the Git state saved
    there, and from the database as the module's transaction holds it (see ``shared_setup``)."""
    shared = SharedGit(tmp_path_factory.mktemp("shared-git"))
    shutil.copytree(templates_registered[1], shared.mirrors, dirs_exist_ok=True)
    shared.save()
    return shared


def dataproduct_create_shared(shared_git, *, components=(), **overrides) -> str:
    """Create a data product as alice (with ``components``, each a dict of component values plus an optional
    ``template`` ref) in the module's shared Git root; its entity name."""
    alice = get_user_model().objects.get(username="alice")
    with shared_git.building():
        template = selectors.template_get(ref="template:dataproduct")
        data_product = services.dataproduct_create(template=template, values=dp_values(**overrides), actor=alice)
        for component in components:
            values = dict(component)
            template = selectors.template_get(ref=values.pop("template", "template:outputport"))
            data_product = selectors.dataproduct_get(name=data_product.name)
            services.component_create(data_product=data_product, template=template, values=values, actor=alice)
    return data_product.name


@pytest.fixture(scope="module")
def shared_cashflow(shared_git):
    """finance.cashflow.0 as ``create_dp`` makes it, created once for a module sharing its Git; its entity name.
    (No test of such a module may create finance.cashflow.0 itself: the module's may exist already.)"""
    return dataproduct_create_shared(shared_git)


@pytest.fixture
def domains(db, tmp_path, personas, domains_published):
    """The finance and marketing domains from a trusted Git repository outside Meshforge's Git root (so that it
    may read them but not write them) and the users alice and bob (no Group entities: the personas' Django
    groups stay as they are, unmanaged by the catalog). The repository's bare path."""
    bare = tmp_path / "other-git" / "platform-domains.git"
    shutil.copytree(domains_published, bare)
    result = location_register(type="git", target=f"file://{bare}#main:catalog-info.yaml", actor=OPERATOR, trusted=True)
    assert not result.errors, result.errors
    return bare


@pytest.fixture
def builder(templates_location, file_domains):
    """Templates (from Git: creation renders them) and domains (from a file: nothing writes them here; the tests
    of domains in Git use ``domains``) in the catalog: what the Builder needs to create data products."""
    return templates_location


def dp_values(**overrides) -> dict:
    """The values the tests create a data product with (the fast builders' defaults too)."""
    return {**testing.DATAPRODUCT_VALUES, "tags": list(testing.DATAPRODUCT_VALUES["tags"]), **overrides}


def port_values(**overrides) -> dict:
    values = {
        "name": "daily-balances",
        "title": "Daily balances",
        "description": "Balances per account per day",
        "columns": [
            {"name": "day", "dataType": "DATE", "description": "The day", "constraint": "PRIMARY_KEY"},
            {"name": "balance", "dataType": "DECIMAL", "description": "End of day balance"},
        ],
        "termsAndConditions": "Internal use only",
    }
    values.update(overrides)
    return values


@pytest.fixture
def create_dp(builder):
    def create(actor, **overrides):
        template = selectors.template_get(ref="template:dataproduct")
        return services.dataproduct_create(template=template, values=dp_values(**overrides), actor=actor)

    return create


@pytest.fixture
def add_component(builder):
    def add(data_product, actor, template_ref="template:outputport", **values):
        template = selectors.template_get(ref=template_ref)
        data_product = selectors.dataproduct_get(name=data_product.name)
        return services.component_create(data_product=data_product, template=template, values=values, actor=actor)

    return add


# --- fast builders (dataproducts.testing): the same entities and projections from trusted file locations, in
# milliseconds, for tests that do not test Git, rendering or edits ---------------------------------------------


@pytest.fixture
def catalog_files(settings, tmp_path):
    """A folder of this test's own under the allowed file roots, where the builders write catalog files."""
    root = tmp_path / "catalog-files"
    root.mkdir()
    settings.CATALOG_FILE_ROOTS = [*settings.CATALOG_FILE_ROOTS, root]
    return root


@pytest.fixture(scope="module")
def shared_files(shared_setup, tmp_path_factory):
    """A folder for the catalog files of a module that shares its set-up (see ``shared_setup``), among the file
    roots the catalog may read for the whole module."""
    root = tmp_path_factory.mktemp("shared-files")
    with override_settings(CATALOG_FILE_ROOTS=[*django_settings.CATALOG_FILE_ROOTS, root]):
        yield root


@pytest.fixture(scope="module")
def shared_catalog(shared_files):
    """For a module whose tests only read the domains of ``file_domains``: built once in the module's transaction
    (see ``shared_setup``). A module opts in with ``pytestmark = pytest.mark.usefixtures("shared_catalog")``; its
    ``file_domains`` is then this one. The folder of the module's catalog files and the domains' location id."""
    return {"root": shared_files, "domains": testing.domains_build(root=shared_files).pk}


@pytest.fixture(scope="module")
def shared_templates(shared_catalog):
    """Also the built-in templates of ``file_templates``, for a module whose tests never register the templates
    from Git (they would conflict): opt in with ``pytest.mark.usefixtures("shared_templates")``."""
    return testing.templates_build(root=shared_catalog["root"]).pk


@pytest.fixture
def file_domains(request, db, personas, catalog_files):
    """What ``domains`` provides (the finance and marketing domains, the users alice and bob), without Git."""
    if "shared_catalog" in request.fixturenames:
        return Location.objects.get(pk=request.getfixturevalue("shared_catalog")["domains"])
    return testing.domains_build(root=catalog_files)


@pytest.fixture
def file_templates(request, db, catalog_files):
    """The built-in templates as catalog entities, without Git and without skeletons (nothing renders them)."""
    if "shared_templates" in request.fixturenames:
        return Location.objects.get(pk=request.getfixturevalue("shared_templates"))
    if "shared_git" in request.fixturenames:  # the module's templates come from Git
        return request.getfixturevalue("templates_location_shared")
    return testing.templates_build(root=catalog_files)


@pytest.fixture
def build_dp(file_domains, catalog_files):
    """``build_dp(actor, components=[{"kind": ..., **values}], **overrides)``: what ``create_dp`` makes (plus the
    components, in one processing run), without Git or cookiecutter."""

    def build(actor, *, components=(), major=0, **overrides):
        return testing.dataproduct_build(
            root=catalog_files, user=actor.get_username(), major=major, components=components, **dp_values(**overrides)
        )

    return build


@pytest.fixture
def build_component(build_dp):
    """``build_component(data_product, actor, kind="outputport", **values)``: what ``add_component`` makes, on a
    product from ``build_dp``."""

    def build(data_product, actor, kind="outputport", **values):
        return testing.component_build(data_product, kind=kind, user=actor.get_username(), **values)

    return build
