"""The catalog API's locations (PRODUCT §3.2, §3.4): Backstage's list, register (with dry runs), read and
unregister, Meshforge's trust switch, the trust rules for registering, and hostile files."""

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from catalog.models import Entity, Location
from catalog.services import location_register

LOCATIONS = "/api/catalog/locations"

LEDGER = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
spec:
  type: service
  lifecycle: production
  owner: group:finance
"""


@pytest.fixture
def repo(make_repo):
    repo = make_repo("finance")
    repo.put({"catalog-info.yaml": LEDGER})
    return repo


@pytest.fixture
def registered(repo, platform_user):
    return location_register(type="git", target=repo.target(), actor=platform_user).location


@pytest.fixture
def http_files(tmp_path, settings):
    """Files served over HTTP on 127.0.0.1, a host on the allow-list: where non-staff may register."""
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    settings.CATALOG_URL_ALLOWED_HOSTS = [f"127.0.0.1:{server.server_address[1]}"]  # a bare host: ports 80/443
    (root / "catalog-info.yaml").write_text(LEDGER)
    yield f"http://127.0.0.1:{server.server_address[1]}/catalog-info.yaml"
    server.shutdown()
    server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def as_user(api_client, user):
    api_client.force_login(user)
    return api_client


def error(response, status: int, name: str) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "response"}
    assert body["error"]["name"] == name
    assert body["response"] == {"statusCode": status}
    return body["error"]["message"]


# --- list and read -----------------------------------------------------------------------------------------


def test_the_list_wraps_each_location_in_data_as_backstage(api_client, carol, registered, platform_user):
    response = as_user(api_client, carol).get(LOCATIONS)

    assert response.status_code == 200
    (item,) = response.json()
    assert set(item) == {"data"}
    data = item["data"]
    assert data["id"] == str(registered.pk)
    assert data["type"] == "git"
    assert data["target"] == registered.target
    assert data["trusted"] is False
    assert data["parent"] is None
    assert data["registeredBy"] == "platform"
    assert data["errors"] == []
    assert data["lastRefresh"] and data["lastSuccess"] and data["nextRefresh"]


def test_the_list_filters_with_the_location_filterset(api_client, carol, registered):
    client = as_user(api_client, carol)
    assert len(client.get(LOCATIONS, {"type": "git", "root": "true"}).json()) == 1
    assert client.get(LOCATIONS, {"type": "url"}).json() == []
    assert client.get(LOCATIONS, {"has_errors": "true"}).json() == []
    assert client.get(LOCATIONS, {"target": "FINANCE.git"}).json()[0]["data"]["id"] == str(registered.pk)


def test_a_bad_list_filter_is_a_400_naming_it(api_client, carol, registered):
    message = error(as_user(api_client, carol).get(LOCATIONS, {"type": "ftp"}), 400, "InputError")
    assert message.startswith("type: Select a valid choice.")


def test_a_location_is_read_by_id(api_client, carol, registered):
    response = as_user(api_client, carol).get(f"{LOCATIONS}/{registered.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == str(registered.pk)
    assert response.json()["target"] == registered.target


def test_an_unknown_location_is_a_404(api_client, carol, db):
    client = as_user(api_client, carol)
    assert error(client.get(f"{LOCATIONS}/999999"), 404, "NotFoundError") == "No location with id 999999"
    error(client.get(f"{LOCATIONS}/abc"), 404, "NotFoundError")
    error(client.get(f"{LOCATIONS}/99999999999999999999999"), 404, "NotFoundError")


# --- register ----------------------------------------------------------------------------------------------


def test_registering_answers_201_with_the_location_and_its_entities(api_client, platform_user, repo):
    response = as_user(api_client, platform_user).post(
        LOCATIONS, {"type": "git", "target": repo.target()}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    location = Location.objects.get()
    assert body["location"]["id"] == str(location.pk)
    assert body["location"]["registeredBy"] == "platform"
    (ledger,) = body["entities"]
    assert ledger["metadata"]["name"] == "ledger"
    assert ledger["metadata"]["uid"] == str(Entity.objects.get(ref="component:default/ledger").uid)
    assert ledger["relations"][0]["targetRef"] == "group:default/finance"
    assert body["errors"] == []
    assert "exists" not in body


def test_a_dry_run_answers_what_registering_would_add_and_keeps_nothing(api_client, platform_user, repo):
    response = as_user(api_client, platform_user).post(
        f"{LOCATIONS}?dryRun=true", {"type": "git", "target": repo.target()}, format="json"
    )

    assert response.status_code == 201  # as Backstage answers a dry run, and its client requires
    body = response.json()
    assert body["exists"] is False
    assert [entity["metadata"]["name"] for entity in body["entities"]] == ["ledger"]
    assert body["location"]["target"] == repo.target().removesuffix(":catalog-info.yaml")
    assert body["errors"] == []
    assert not Location.objects.exists()
    assert not Entity.objects.exists()


def test_a_dry_run_shows_the_errors_registering_would_record(api_client, platform_user, make_repo):
    repo = make_repo("broken")
    repo.put({"catalog-info.yaml": LEDGER.replace("name: ledger", "name: ledger-")})
    response = as_user(api_client, platform_user).post(
        f"{LOCATIONS}?dryRun=1", {"type": "git", "target": repo.target()}, format="json"
    )
    assert response.status_code == 201  # as Backstage answers a dry run, and its client requires
    assert response.json()["entities"] == []
    assert any("metadata.name" in message for message in response.json()["errors"])


def test_a_dry_run_of_a_registered_location_says_it_exists(api_client, platform_user, repo, registered):
    response = as_user(api_client, platform_user).post(
        f"{LOCATIONS}?dryRun=true", {"type": "git", "target": repo.target()}, format="json"
    )
    assert response.status_code == 201  # as Backstage answers a dry run, and its client requires
    assert response.json()["exists"] is True
    assert response.json()["location"]["id"] == str(registered.pk)
    assert [entity["metadata"]["name"] for entity in response.json()["entities"]] == ["ledger"]


def test_registering_a_location_twice_is_a_conflict(api_client, platform_user, repo, registered):
    response = as_user(api_client, platform_user).post(
        LOCATIONS, {"type": "git", "target": repo.target()}, format="json"
    )
    assert "already registered" in error(response, 409, "ConflictError")
    assert Location.objects.count() == 1


@pytest.mark.parametrize(
    "location",
    [
        {"type": "file", "target": "/srv/catalog/catalog-info.yaml"},
        {"type": "git", "target": "file:///srv/git/finance.git#main:catalog-info.yaml"},
        {"type": "url", "target": "https://evil.example.org/catalog-info.yaml"},
        {"type": "git", "target": "https://evil.example.org/finance.git"},
    ],
)
def test_non_staff_may_not_register_files_local_repositories_or_hosts_off_the_list(api_client, bob, location):
    response = as_user(api_client, bob).post(LOCATIONS, location, format="json")
    message = error(response, 403, "NotAllowedError")
    assert "only staff" in message
    assert not Location.objects.exists()


def test_non_staff_register_on_an_allowed_host(api_client, bob, http_files):
    response = as_user(api_client, bob).post(LOCATIONS, {"type": "url", "target": http_files}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["location"]["registeredBy"] == "bob"
    assert [entity["metadata"]["name"] for entity in response.json()["entities"]] == ["ledger"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "ftp", "target": "ftp://x/y"}, "type"),
        ({"type": "git", "target": "not a url"}, "target"),
        ({"type": "git"}, "target"),
        ({"target": "https://x/y"}, "type"),
        ({"type": "url", "target": "https://x/\x00"}, "target"),
        ({"type": "url", "target": "https://x/" + "y" * 3000}, "target"),
        ({"type": ["url"], "target": {"a": 1}}, "type"),
        (["url", "https://x/y"], "request body"),
    ],
)
def test_a_malformed_registration_is_a_400_naming_the_field(api_client, platform_user, body, field):
    response = as_user(api_client, platform_user).post(LOCATIONS, body, format="json")
    assert error(response, 400, "InputError").startswith(f"{field}: ")


def test_a_bad_dry_run_flag_is_a_400_naming_it(api_client, platform_user, repo):
    response = as_user(api_client, platform_user).post(
        f"{LOCATIONS}?dryRun=maybe", {"type": "git", "target": repo.target()}, format="json"
    )
    assert error(response, 400, "InputError").startswith("dryRun: ")


# --- unregister --------------------------------------------------------------------------------------------


def test_staff_unregister_a_location_and_its_entities_go(api_client, platform_user, registered):
    response = as_user(api_client, platform_user).delete(f"{LOCATIONS}/{registered.pk}")
    assert response.status_code == 204
    assert not Location.objects.exists()
    assert not Entity.objects.exists()


def test_another_user_may_not_unregister_a_location(api_client, alice, registered):
    response = as_user(api_client, alice).delete(f"{LOCATIONS}/{registered.pk}")
    assert "only staff or the person who registered" in error(response, 403, "NotAllowedError")
    assert Location.objects.filter(pk=registered.pk).exists()


def test_the_registerer_may_unregister_their_own_location_but_another_user_may_not(api_client, bob, alice, http_files):
    location = location_register(type="url", target=http_files, actor=bob).location

    error(as_user(api_client, alice).delete(f"{LOCATIONS}/{location.pk}"), 403, "NotAllowedError")
    assert as_user(api_client, bob).delete(f"{LOCATIONS}/{location.pk}").status_code == 204
    assert not Location.objects.exists()


def test_a_location_produced_by_another_cannot_be_unregistered_alone(api_client, platform_user, make_repo):
    repo = make_repo("tree")
    location_file = "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: tree\nspec:\n"
    repo.put({"catalog-info.yaml": location_file + "  targets: [./a.yaml]\n", "a.yaml": LEDGER})
    root = location_register(type="git", target=repo.target(), actor=platform_user).location
    child = root.children.get()

    response = as_user(api_client, platform_user).delete(f"{LOCATIONS}/{child.pk}")

    assert "unregister that one" in error(response, 409, "ConflictError")


def test_unregistering_an_unknown_location_is_a_404(api_client, platform_user):
    error(as_user(api_client, platform_user).delete(f"{LOCATIONS}/424242"), 404, "NotFoundError")


# --- trust -------------------------------------------------------------------------------------------------


def test_staff_mark_a_location_trusted(api_client, platform_user, registered):
    response = as_user(api_client, platform_user).post(
        f"{LOCATIONS}/{registered.pk}/trust", {"trusted": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["trusted"] is True
    registered.refresh_from_db()
    assert registered.trusted

    response = api_client.post(f"{LOCATIONS}/{registered.pk}/trust", {"trusted": False}, format="json")
    assert response.json()["trusted"] is False


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_only_staff_may_change_trust(api_client, personas, registered, persona, http_files):
    own = location_register(type="url", target=http_files, actor=personas["bob"]).location
    client = as_user(api_client, personas[persona])
    for location in (registered, own):
        response = client.post(f"{LOCATIONS}/{location.pk}/trust", {"trusted": True}, format="json")
        assert "only staff" in error(response, 403, "NotAllowedError")
    assert not Location.objects.filter(trusted=True).exists()


@pytest.mark.parametrize("body", [{}, {"trusted": "perhaps"}, {"trusted": None}, {"trusted": [True]}])
def test_trust_needs_a_boolean(api_client, platform_user, registered, body):
    response = as_user(api_client, platform_user).post(f"{LOCATIONS}/{registered.pk}/trust", body, format="json")
    assert error(response, 400, "InputError").startswith("trusted: ")


# --- hostile files -----------------------------------------------------------------------------------------

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
HUGE = LEDGER + "  padding: |\n" + ("    " + "x" * 1000 + "\n") * 2100  # about 2 MiB
DUPLICATE_KEYS = LEDGER + "  owner: group:marketing\n"


@pytest.mark.parametrize(
    ("content", "words"),
    [(BILLION_LAUGHS, ("node", "alias")), (HUGE, ("bytes", "limit")), (DUPLICATE_KEYS, ("duplicate", "owner"))],
    ids=["billion-laughs", "2-MiB", "duplicate-keys"],
)
def test_a_hostile_file_gives_a_clear_error_on_the_location_and_no_entity(
    api_client, platform_user, make_repo, content, words
):
    repo = make_repo("hostile")
    repo.put({"catalog-info.yaml": content})
    client = as_user(api_client, platform_user)

    response = client.post(LOCATIONS, {"type": "git", "target": repo.target()}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["entities"] == []
    (message,) = body["errors"]
    assert message.startswith("catalog-info.yaml")
    assert any(word in message.lower() for word in words), message
    location = client.get(f"{LOCATIONS}/{body['location']['id']}").json()
    assert location["errors"] == [message]
    listed = client.get(LOCATIONS, {"has_errors": "true"}).json()
    assert [item["data"]["id"] for item in listed] == [body["location"]["id"]]
    assert not Entity.objects.filter(kind="Component").exists()


def test_a_hostile_edit_keeps_the_last_good_entity_with_its_error(api_client, platform_user, repo, registered):
    repo.put({"catalog-info.yaml": BILLION_LAUGHS})
    client = as_user(api_client, platform_user)

    assert client.post("/api/catalog/refresh", {"entityRef": "component:ledger"}, format="json").status_code == 200

    entity = client.get("/api/catalog/entities/by-name/component/default/ledger").json()
    assert entity["spec"]["owner"] == "group:finance"
    assert entity["status"]["items"][0]["message"].startswith("catalog-info.yaml")
    assert client.get(f"{LOCATIONS}/{registered.pk}").json()["errors"]
