"""Fixtures for the Builder: a Git root and catalog mirrors per test, the built-in templates registered from a
trusted repository, the finance and marketing domains, and a helper that creates data products through the
service."""

from __future__ import annotations

import shutil

import pytest
from django.conf import settings as django_settings
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
def builder_dirs(settings, tmp_path):
    """Each test has a Git root and catalog mirrors of its own."""
    settings.MESHFORGE_GIT_ROOT = tmp_path / "git"
    settings.CATALOG_MIRROR_DIR = tmp_path / "mirrors"
    settings.CATALOG_URL_ALLOWED_HOSTS = []


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
def templates_location(db, settings, templates_published):
    """The built-in templates, published to a trusted local repository and registered."""
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
def shared_catalog(shared_setup, tmp_path_factory):
    """For a module whose tests only read the domains of ``file_domains``: built once in the module's transaction
    (see ``shared_setup``). A module opts in with ``pytestmark = pytest.mark.usefixtures("shared_catalog")``; its
    ``file_domains`` is then this one. The folder of the module's catalog files and the domains' location id."""
    root = tmp_path_factory.mktemp("shared-catalog")
    with override_settings(CATALOG_FILE_ROOTS=[*django_settings.CATALOG_FILE_ROOTS, root]):
        yield {"root": root, "domains": testing.domains_build(root=root).pk}


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
