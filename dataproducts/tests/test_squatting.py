"""Nobody squats a data product: a System from someone else's untrusted repository stays a plain catalog entity
saying why, never blocks the owners' own creation, and loses its ref to the product's own repository or a trusted
location; staff can adopt an existing repository. Repositories here are real, served over HTTP on loopback so that
a person without staff rights registers them, as anyone may."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import git
import pytest
from django.urls import reverse

from catalog.membership import data_product_problem
from catalog.models import Entity, Location
from catalog.services import location_refresh, location_register
from core.models import AuditEvent
from core.services import OPERATOR
from core.testing.git import GitRepo
from dataproducts import selectors, services
from dataproducts.models import DataProduct, DataProductReservation
from dataproducts.tests.conftest import dp_values, port_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_catalog")]


@pytest.fixture(autouse=True)
def templates_location(templates_location_shared):
    """The built-in templates registered once for this module (no test here commits or flushes the database),
    for every test of it alike."""
    return templates_location_shared


SPOOF_REF = "system:default/finance.spoof.0"
SPOOF = """\
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: finance.spoof.0, title: Spoofed, description: Not written by the finance team}
spec:
  type: dataproduct
  lifecycle: experimental
  owner: group:finance
  domain: domain:finance
  mesh:
    name: Spoofed
    version: 0.0.0
    dataProductOwner: user:carol
    devGroup: group:finance
    useCaseTemplateId: urn:dmb:utm:dataproduct-template:0.0.0
"""
RESOURCE = """\
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: {name: shared-bucket, description: DESCRIPTION}
spec: {type: s3-bucket, owner: group:finance}
"""


class GitHttpServer:
    """Bare repositories under ``root`` served read-only over Git's dumb HTTP protocol on 127.0.0.1."""

    def __init__(self, root):
        self.root = root
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def repository(self, name: str, files: dict[str, str]) -> GitRepo:
        repo = GitRepo(self.root, name)
        self.push(repo, files)
        return repo

    def push(self, repo: GitRepo, files: dict[str, str]) -> None:
        repo.put(files)
        git.Repo(repo.bare_path).git.update_server_info()  # what the dumb protocol reads

    def target(self, repo: GitRepo) -> str:
        return f"http://127.0.0.1:{self.port}/{repo.bare_path.name}#main:catalog-info.yaml"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def served(tmp_path, settings):
    server = GitHttpServer(tmp_path / "served")
    (tmp_path / "served").mkdir(exist_ok=True)
    # the host a non-staff person may register from (with and without its port, whichever form the rule takes)
    settings.CATALOG_URL_ALLOWED_HOSTS = ["127.0.0.1", f"127.0.0.1:{server.port}"]
    yield server
    server.close()


@pytest.fixture
def squatter(served, builder, carol):
    """carol (no team, no staff rights) registers a repository of hers holding finance.spoof.0."""
    repo = served.repository("spoof", {"catalog-info.yaml": SPOOF})
    result = location_register(type="git", target=served.target(repo), actor=carol)
    assert result.location.trusted is False
    repo.location = result.location
    return repo


def test_a_data_product_from_someone_elses_repository_stays_a_plain_entity_saying_why(squatter, client, alice):
    entity = Entity.objects.get(ref=SPOOF_REF)

    assert not DataProduct.objects.exists()
    assert entity.has_errors
    assert any("not taken as a data product" in error and "trusted" in error for error in entity.dp_errors)
    client.force_login(alice)
    assert "spoof" not in client.get(reverse("dataproducts:home")).content.decode().lower()
    page = client.get(reverse("catalog:entity_detail", args=["system", "default", "finance.spoof.0"]))
    assert page.status_code == 200
    assert "not taken as a data product" in page.content.decode()


def test_the_owners_create_the_squatted_name_and_their_own_repository_wins(squatter, create_dp, alice, settings):
    template = selectors.template_get(ref="template:dataproduct")
    services.dataproduct_preview(template=template, values=dp_values(name="spoof"), actor=alice)  # no 409

    data_product = create_dp(alice, name="spoof", title="The real one")

    assert data_product.owner_team == "finance" and data_product.title == "The real one"
    entity = Entity.objects.select_related("location").get(ref=SPOOF_REF)
    assert entity.location.home_of == [SPOOF_REF]
    assert entity.metadata["title"] == "The real one" and entity.dp_errors == []
    assert (settings.MESHFORGE_GIT_ROOT / "finance" / "spoof.git").is_dir()
    squatted = Location.objects.get(pk=squatter.location.pk)
    assert squatted.errors == [
        f"catalog-info.yaml: {SPOOF_REF} conflicts with the same entity from location {entity.location}; a trusted"
        " location or the data product's own repository wins over an untrusted location"
    ]

    # the squatter's next read changes nothing: the conflict stays its error
    location_refresh(location=squatted, actor=OPERATOR)
    entity.refresh_from_db()
    assert entity.metadata["title"] == "The real one" and entity.location_id == data_product.entity.location_id
    assert len(Location.objects.get(pk=squatted.pk).errors) == 1
    assert DataProduct.objects.get().title == "The real one"


def test_the_owners_creation_wins_even_when_the_squatter_is_refreshed_in_the_same_batch(
    squatter, create_dp, alice, served
):
    create_dp(alice, name="spoof")
    served.push(squatter, {"catalog-info.yaml": SPOOF.replace("Spoofed", "Spoofed again")})
    home = Entity.objects.get(ref=SPOOF_REF).location
    from catalog.processing import locations_process
    from catalog.readers import ReadSession

    with ReadSession() as session:  # the squatter first, then the own repository: the latter keeps it
        locations_process([squatter.location.pk, home.pk], session=session, force=True)

    assert Entity.objects.get(ref=SPOOF_REF).location_id == home.pk
    assert len(Location.objects.get(pk=squatter.location.pk).errors) == 1
    assert Location.objects.get(pk=home.pk).errors == []


def test_a_trusted_location_takes_an_entity_over_from_an_untrusted_one_that_came_first(
    served, carol, platform_user, tmp_path
):
    theirs = served.repository("bucket", {"catalog-info.yaml": RESOURCE.replace("DESCRIPTION", "carol's")})
    untrusted = location_register(type="git", target=served.target(theirs), actor=carol).location
    platform = GitRepo(tmp_path / "platform-git", "bucket")
    platform.put({"catalog-info.yaml": RESOURCE.replace("DESCRIPTION", "the platform's")})

    trusted = location_register(type="git", target=platform.target(), actor=platform_user, trusted=True).location

    entity = Entity.objects.get(ref="resource:default/shared-bucket")
    assert entity.location_id == trusted.pk and entity.metadata["description"] == "the platform's"
    assert "wins over an untrusted location" in Location.objects.get(pk=untrusted.pk).errors[0]
    assert str(trusted) in Location.objects.get(pk=untrusted.pk).errors[0]


def test_between_two_untrusted_locations_the_first_keeps_it(served, carol, bob):
    first = served.repository("first", {"catalog-info.yaml": RESOURCE.replace("DESCRIPTION", "first")})
    second = served.repository("second", {"catalog-info.yaml": RESOURCE.replace("DESCRIPTION", "second")})
    location_register(type="git", target=served.target(first), actor=carol)

    result = location_register(type="git", target=served.target(second), actor=bob)

    assert Entity.objects.get(ref="resource:default/shared-bucket").metadata["description"] == "first"
    assert result.location.errors[0].endswith("the first one is kept")


def test_another_branch_of_the_products_own_repository_counts_as_its_own(create_dp, alice, platform_user):
    data_product = create_dp(alice)
    bare = git.Repo(data_product.entity.location.target.split("#")[0].removeprefix("file://"))
    bare.git.branch("next", "main")
    branch = location_register(
        type="git", target=data_product.entity.location.target.replace("#main", "#next"), actor=platform_user
    ).location
    assert "the first one is kept" in branch.errors[0]  # both speak for it: the first keeps it

    elsewhere = Entity(ref=data_product.entity.ref, location=branch, source_target=branch.target)
    assert data_product_problem(elsewhere) is None


def test_staff_adopt_an_existing_repository_and_its_data_product_counts(squatter, api_client, platform_user):
    api_client.force_authenticate(platform_user)

    response = api_client.post(f"/api/catalog/locations/{squatter.location.pk}/adopt", {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["homeOf"] == [SPOOF_REF]
    data_product = DataProduct.objects.get()
    assert data_product.name == "finance.spoof.0" and data_product.owner_team == "finance"
    assert Entity.objects.get(ref=SPOOF_REF).dp_errors == []
    event = AuditEvent.objects.get(action="location.adopt")
    assert event.actor == platform_user and event.after["home_of"] == [SPOOF_REF]

    # and back: no longer its own repository, no longer a data product
    response = api_client.post(
        f"/api/catalog/locations/{squatter.location.pk}/adopt", {"adopted": False}, format="json"
    )
    assert response.status_code == 200 and response.json()["homeOf"] == []
    assert not DataProduct.objects.exists()
    assert Entity.objects.get(ref=SPOOF_REF).has_errors


def test_staff_adopt_from_the_locations_page(squatter, client, platform_user):
    client.force_login(platform_user)
    listed = client.get(reverse("catalog:location_list")).content.decode()
    assert reverse("catalog:location_adopt", args=[squatter.location.pk]) in listed

    response = client.post(reverse("catalog:location_adopt", args=[squatter.location.pk]), {"adopted": "true"})

    assert response.status_code == 302
    assert DataProduct.objects.filter(name="finance.spoof.0").exists()


def test_only_staff_may_adopt_a_repository(squatter, api_client, client, alice):
    api_client.force_authenticate(alice)
    assert api_client.post(f"/api/catalog/locations/{squatter.location.pk}/adopt", {}, format="json").status_code == 403
    client.force_login(alice)
    assert client.post(reverse("catalog:location_adopt", args=[squatter.location.pk])).status_code == 403
    assert "Adopt" not in client.get(reverse("catalog:location_list")).content.decode()
    assert not DataProduct.objects.exists() and Location.objects.get(pk=squatter.location.pk).home_of == []


def test_adopting_a_repository_without_data_products_is_a_conflict(served, carol, api_client, platform_user):
    repo = served.repository("bucket", {"catalog-info.yaml": RESOURCE.replace("DESCRIPTION", "x")})
    location = location_register(type="git", target=served.target(repo), actor=carol).location
    api_client.force_authenticate(platform_user)

    response = api_client.post(f"/api/catalog/locations/{location.pk}/adopt", {}, format="json")

    assert response.status_code == 409 and "holds no data product" in response.content.decode()


def test_an_adopted_repository_is_not_removed_by_a_later_creation_of_its_name(squatter, create_dp, platform_user):
    from catalog.services import location_adopt

    location_adopt(location=squatter.location, actor=platform_user)
    from dataproducts.exceptions import DataProductConflict

    with pytest.raises(DataProductConflict, match="already exists"):
        create_dp(platform_user, name="spoof")
    assert not DataProductReservation.objects.exists()


# --- a product Meshforge reads but cannot write: a 409 that names no path of the server ----------------------


@pytest.fixture
def elsewhere(builder, platform_user, tmp_path):
    """finance.spoof.0 from a trusted repository on the server but outside Meshforge's Git root."""
    repo = GitRepo(tmp_path / "outside-the-root", "spoof")
    repo.put({"catalog-info.yaml": SPOOF})
    location_register(type="git", target=repo.target(), actor=platform_user, trusted=True)
    assert DataProduct.objects.filter(name="finance.spoof.0").exists()
    return repo


def _no_server_path(text: str, tmp_path) -> bool:
    return str(tmp_path) not in text and "file://" not in text


def test_editing_a_product_meshforge_cannot_write_is_a_409_naming_no_server_path(
    elsewhere, api_client, client, alice, tmp_path
):
    api_client.force_authenticate(alice)
    url = "/api/dataproducts/data-products/finance.spoof.0/edit/"

    read = api_client.get(url)
    written = api_client.post(url, {"values": {"description": "x"}, "base_revision": "0" * 40}, format="json")

    for response in (read, written):
        assert response.status_code == 409, response.content
        assert "change it in Git" in response.json()["detail"]
        assert _no_server_path(response.content.decode(), tmp_path)
    client.force_login(alice)
    page = client.get(reverse("dp:dataproduct_edit", args=["finance.spoof.0"]))
    assert page.status_code == 409 and "change it in Git" in page.content.decode()
    assert _no_server_path(page.content.decode(), tmp_path)


def test_adding_a_component_to_an_adopted_remote_product_is_a_409(squatter, api_client, platform_user, alice):
    from catalog.services import location_adopt

    location_adopt(location=squatter.location, actor=platform_user)
    api_client.force_authenticate(alice)

    response = api_client.post(
        "/api/dataproducts/data-products/finance.spoof.0/components/",
        {"template": "template:outputport", "values": {"name": "daily"}},
        format="json",
    )

    assert response.status_code == 409 and "is not one Meshforge manages" in response.json()["detail"]


SPOOF_PORT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: finance.cashflow.0.daily-balances, description: Not written by the finance team}
spec:
  type: outputport
  lifecycle: experimental
  owner: group:finance
  system: system:finance.cashflow.0
  mesh: {name: Squatted, kind: outputport, version: 0.0.0}
"""


def test_a_component_name_squatted_elsewhere_does_not_block_the_owners_component(
    create_dp, add_component, served, carol, alice
):
    data_product = create_dp(alice)
    theirs = served.repository("port", {"catalog-info.yaml": SPOOF_PORT})
    squatted = location_register(type="git", target=served.target(theirs), actor=carol).location

    component = add_component(data_product, alice, **port_values())

    assert component.data_product == data_product and component.title == "Daily balances"
    assert Entity.objects.get(ref="component:default/finance.cashflow.0.daily-balances").location != squatted
    assert "wins over an untrusted location" in Location.objects.get(pk=squatted.pk).errors[0]
