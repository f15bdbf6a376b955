"""The Builder's reads (``dataproducts.selectors``): who may write a data product, and lookups that meet text
PostgreSQL cannot store."""

from __future__ import annotations

import re

import git
import pytest
from django.contrib.auth.models import AnonymousUser

from catalog import selectors as catalog_selectors
from catalog import teams
from catalog.selectors import entities_source_files, entity_source_files
from catalog.services import location_refresh
from core.services import OPERATOR
from dataproducts import selectors, testing
from dataproducts.tests.conftest import port_values
from dataproducts.tests.test_views_pages import witboost_dataproduct
from dataproducts.tests.test_views_pages_git import git_publish

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_catalog")]


@pytest.fixture(autouse=True)
def templates_location(templates_location_shared):
    """The built-in templates registered once for this module (no test here commits or flushes the database),
    for every test of it alike: the tests that only read them get the same entities as those that render them."""
    return templates_location_shared


@pytest.fixture
def developed_by_marketing(create_dp, alice, settings, tmp_path):
    """Finance's cash flow product, whose devGroup someone changed in Git to marketing."""
    data_product = create_dp(alice)
    clone = git.Repo.clone_from(settings.MESHFORGE_GIT_ROOT / "finance" / "cashflow.git", tmp_path / "clone")
    path = tmp_path / "clone" / "catalog-info.yaml"
    text, count = re.subn(r"devGroup: .*", "devGroup: group:marketing", path.read_text())
    assert count == 1
    path.write_text(text)
    clone.index.add(["catalog-info.yaml"])
    clone.index.commit("Marketing develops it", author=git.Actor("Eve", "eve@example.com"))
    clone.remotes.origin.push("main:main")
    location_refresh(location=data_product.entity.location, actor=OPERATOR)
    data_product = selectors.dataproduct_get(name=data_product.name)
    assert (data_product.owner_ref, data_product.dev_group_ref) == ("group:default/finance", "group:default/marketing")
    return data_product


@pytest.fixture
def built_developed_by_marketing(build_dp, alice):
    """The same product, built without Git, its devGroup changed where it lives (for tests that only read it)."""
    data_product = testing.dataproduct_file_edit(
        build_dp(alice), lambda text: re.sub(r"devGroup: .*", "devGroup: group:marketing", text)
    )
    assert (data_product.owner_ref, data_product.dev_group_ref) == ("group:default/finance", "group:default/marketing")
    return data_product


def test_members_of_the_dev_group_may_write_the_data_product(
    built_developed_by_marketing, alice, bob, carol, platform_user
):
    def may_write(user) -> bool:
        return selectors.dataproduct_may_write(data_product=built_developed_by_marketing, user=user)

    assert may_write(alice)  # the owner team
    assert may_write(bob)  # the dev group
    assert may_write(platform_user)
    assert not may_write(carol)
    assert not may_write(AnonymousUser())
    # teams stay as they were
    assert not teams.team_may_write(owner_ref=built_developed_by_marketing.owner_ref, user=bob)


def test_a_member_of_the_dev_group_adds_a_component(developed_by_marketing, add_component, bob):
    # through Git: the service commits to the product's repository on bob's behalf
    component = add_component(developed_by_marketing, bob, **port_values())

    assert component.data_product == developed_by_marketing


# --- NUL characters: PostgreSQL text cannot hold them, so a lookup must find nothing rather than fail ------------


def test_lookups_with_a_nul_character_find_nothing(templates_location, file_domains):
    assert selectors.dataproduct_get(name="a\x00b") is None
    assert selectors.component_get(name="a\x00b") is None
    assert selectors.domain_get(name="fin\x00ance") is None
    assert selectors.template_get(ref="template:data\x00product") is None
    assert selectors.template_list(search="\x00") == []
    assert selectors.template_list(type="data\x00product") == []


def test_pages_with_a_nul_character_in_the_url_are_404(client, templates_location, file_domains, alice, platform_user):
    client.force_login(alice)
    assert client.get("/dp/a%00b/").status_code == 404
    client.force_login(platform_user)
    assert client.get("/builder/domains/a%00b/edit/").status_code == 404


def test_the_api_answers_a_nul_character_without_a_server_error(api_client, templates_location, file_domains, alice):
    api_client.force_authenticate(alice)
    response = api_client.get("/api/dataproducts/templates/?search=%00")
    assert response.status_code == 200 and response.json() == []
    assert api_client.get("/api/dataproducts/data-products/a%00b/").status_code == 404
    assert api_client.get("/api/dataproducts/data-products/a%00b/descriptor/").status_code == 404
    assert api_client.get("/api/dataproducts/components/a%00b/").status_code == 404
    assert api_client.get("/api/dataproducts/domains/a%00b/").status_code == 404


def test_the_environment_files_of_entities_read_at_one_commit_are_read_in_one_look_at_the_repository(
    alice, settings, monkeypatch
):
    system, components = witboost_dataproduct()
    git_publish(settings.MESHFORGE_GIT_ROOT, system, components)  # the product and its components in one commit
    data_product = selectors.dataproduct_get(name=system["metadata"]["name"])
    entities = [data_product.entity, *(component.entity for component in data_product.components.all())]
    folder = "environments/production"
    one_by_one = {entity.pk: entity_source_files(entity=entity, folder=folder) for entity in entities}
    reads = []
    monkeypatch.setattr(catalog_selectors, "read_git_folders", _counted(catalog_selectors.read_git_folders, reads))

    configurations, problems = selectors.environment_configurations(entities=entities, environment="production")
    together = entities_source_files(entities=entities, folder=folder)

    assert len(entities) == 3 and len(reads) == 2  # one look per call
    assert together == one_by_one
    assert set(configurations) == {entity.name for entity in entities} and problems == []


def test_an_entity_not_read_from_git_has_its_own_problem_among_the_others(build_dp, alice):
    data_product = build_dp(alice)

    configurations, problems = selectors.environment_configurations(
        entities=[data_product.entity], environment="development"
    )

    assert configurations == {data_product.name: {}}
    assert problems == [f"{data_product.name}: environments/development: {data_product.entity.ref} was not read "
                        "from a Git repository"]  # fmt: skip


def _counted(function, calls: list):
    def counted(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)

    return counted
