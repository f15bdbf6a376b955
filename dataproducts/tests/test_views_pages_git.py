"""The Builder's pages where Git shows or must stay as it was: the overview's commits and clone URL, removing a
component, the refusals of another team's member; and a list long enough to page. Apart from
``test_views_pages``, whose module shares file-located products with the same names (see ``shared_products``)."""

from __future__ import annotations

from pathlib import Path

import git
import pytest
from django.urls import reverse

from catalog.refs import parse_dp_entity_name
from catalog.services import location_register
from core.services import OPERATOR
from core.testing.git import GitRepo
from dataproducts.models import Component
from dataproducts.tests.test_views_pages import (
    PORT,
    STORAGE,
    WITBOOST,
    component_url,
    dataproduct_files,
    dp_url,
    listed,
    signed_in,
    system_document,
    witboost_dataproduct,
    yaml_file,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_git")]


def git_publish(root: Path, system: dict, components: list[dict] = ()) -> GitRepo:
    """Commit a data product to a repository under ``root`` (Meshforge's Git root: so that it may write there, as
    for the products it creates) and register it."""
    identity = parse_dp_entity_name(system["metadata"]["name"])
    repo = GitRepo(root / identity.domain, identity.name)
    repo.put(dataproduct_files(system, list(components)), message=f"Create {identity.system_name}")
    # recorded as the product's own repository, as the Builder records the repositories it creates
    home = [f"system:default/{system['metadata']['name']}"]
    result = location_register(type="git", target=repo.target(), actor=OPERATOR, home=home)
    assert not result.errors, result.errors
    return repo


@pytest.fixture
def publish(settings):
    """``publish(system, components)``: :func:`git_publish` into this test's Git root."""
    return lambda system, components=(): git_publish(settings.MESHFORGE_GIT_ROOT, system, components)


@pytest.fixture(scope="module")
def shared_vaccinations(shared_git):
    """The Witboost fixture's data product in a repository Meshforge may write, made once for the module; the
    folder of its repository."""
    with shared_git.building():
        system, components = witboost_dataproduct()
        git_publish(shared_git.git_root, system, components)
    return shared_git.git_root / "healthcare"


@pytest.fixture
def vaccinations_in_git(shared_vaccinations):
    """The product of ``shared_vaccinations`` as this test starts: for the tests of what Git shows or keeps."""
    return GitRepo.open(shared_vaccinations, "vaccinations")


def test_the_list_shows_twenty_five_products_a_page(client, platform_user, catalog_files):
    systems = [system_document(f"finance.p{index:02}.0", title=f"Product {index}") for index in range(27)]
    (catalog_files / "many.yaml").write_text(yaml_file(*systems), encoding="utf-8")
    result = location_register(type="file", target=str(catalog_files / "many.yaml"), actor=OPERATOR, trusted=True)
    assert not result.errors, result.errors

    first = signed_in(client, platform_user).get(reverse("dataproducts:home"))
    second = client.get(reverse("dataproducts:home") + "?page=2")

    assert len(listed(first)) == 25 and len(listed(second)) == 2
    assert "27 data products, showing 1\u201325" in first.content.decode()
    assert 'href="?page=2"' in first.content.decode()


def test_the_overview_shows_the_data_product_its_repository_and_recent_commits(client, alice, vaccinations_in_git):
    vaccinations = vaccinations_in_git
    vaccinations.put({"README.md": "# Vaccinations\n"}, message="Describe the product")

    response = signed_in(client, alice).get(dp_url())

    content = response.content.decode()
    assert response.status_code == 200
    assert '<h1 id="dp-title"><bdi>Vaccinations</bdi>' in content
    for text in ["urn:dmb:dp:healthcare:vaccinations:0", "0.1.0", "group:default/finance", "Tactical",
                 "experimental", "user:name.surname_agilelab.it", "DP about vaccinations"]:  # fmt: skip
        assert text in content, text
    assert f'<code id="dp-clone-url" class="target">{vaccinations.url}</code>' in content
    assert 'data-copy="#dp-clone-url"' in content
    assert "Describe the product" in content and "Create healthcare.vaccinations.0" in content
    assert 'href="/catalog/entity/system/default/healthcare.vaccinations.0/"' in content
    overview = dp_url(tab="overview")
    assert f'<a href="{overview}" hx-get="{overview}" aria-current="page">Overview</a>' in content
    assert '<script src="/static/js/copy.js" defer></script>' in content


WRITE_URLS = [
    ("dp:dataproduct_edit", [WITBOOST]),
    ("dp:component_edit", [WITBOOST, PORT]),
    ("dp:component_remove", [WITBOOST, PORT]),
    ("dp:component_create_wizard", [WITBOOST, "template:default/outputport"]),
    ("dataproducts:domain_create", []),
    ("dataproducts:domain_edit", ["finance"]),
]


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(("url_name", "args"), WRITE_URLS, ids=[name for name, _ in WRITE_URLS])
def test_another_teams_member_gets_403_on_every_write_url(
    client, bob, vaccinations_in_git, file_templates, file_domains, method, url_name, args
):
    vaccinations = vaccinations_in_git
    before = git.Repo(vaccinations.bare_path).head.commit.hexsha

    response = getattr(signed_in(client, bob), method)(reverse(url_name, args=args))

    assert response.status_code == 403
    assert git.Repo(vaccinations.bare_path).head.commit.hexsha == before
    assert Component.objects.filter(slug=PORT).exists()


def test_removing_a_component_asks_first_then_commits_and_returns_to_the_components(client, alice, vaccinations_in_git):
    vaccinations = vaccinations_in_git
    signed_in(client, alice)
    confirm = client.get(component_url(PORT, action="remove"))

    assert confirm.status_code == 200
    assert "Remove the component <bdi>Snowflake Output Port</bdi>?" in confirm.content.decode()
    assert Component.objects.filter(slug=PORT).exists()

    response = client.post(component_url(PORT, action="remove"))

    assert response.status_code == 302 and response["Location"] == dp_url(tab="components")
    assert not Component.objects.filter(slug=PORT).exists()
    assert Component.objects.filter(slug=STORAGE).exists()
    head = git.Repo(vaccinations.bare_path).head.commit
    assert f"components/{PORT}/catalog-info.yaml" not in [blob.path for blob in head.tree.traverse()]
    page = client.get(response["Location"]).content.decode()
    assert f"Removed the component Snowflake Output Port (urn:dmb:cmp:healthcare:vaccinations:0:{PORT})." in page


def test_the_descriptor_tab_shows_the_yaml_a_copy_button_a_download_and_the_validation(
    client, alice, vaccinations_in_git
):
    # from Git: the descriptor reads each environment's configurations.yaml from the product's repository
    response = signed_in(client, alice).get(dp_url(tab="descriptor") + "&env=production")

    content = response.content.decode()
    assert response.status_code == 200
    assert '<option value="production" selected>production</option>' in content
    assert '<option value="development">development</option>' in content
    assert "Valid for production." in content
    assert "environment: production" in content and "id: urn:dmb:dp:healthcare:vaccinations:0" in content
    assert 'data-copy="#dp-descriptor-yaml"' in content
    download = reverse("dp:dataproduct_descriptor_download", args=[WITBOOST, "production"])
    assert f'href="{download}" download' in content
