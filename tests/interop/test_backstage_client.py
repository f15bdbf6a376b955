"""Backstage's own catalog client against a live Meshforge (issue 10): every method of ``CatalogClient``
(@backstage/catalog-client, pinned in package.json) runs in one Node process (``client.mjs``) against a test server
holding a small catalog, each answer compared with direct HTTP to the same endpoint and, for reads, with the answer
of Backstage's in-memory reference client (its ``testUtils``) loaded with the entities Meshforge serves, which
applies Backstage's own filter, predicate, ordering, fields and facet rules.

The catalog (about 30 entities: Groups, Users, Systems, APIs, Components of two types, a Domain, Resources, a
Location file with child targets, an orphan) is served over HTTP from a folder and registered as ``url`` locations,
as Backstage registers them, plus one ``file`` location (read at once on refresh, so nothing is queued). It is
committed to the database for the server thread and flushed afterwards, as transactional tests are; Node runs once
for the module and each test below reads its part of the answer."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.test.utils import modify_settings, override_settings
from pytest_django.live_server_helper import LiveServer

from catalog.models import Entity, Location
from catalog.services import location_refresh, location_register
from core.services import OPERATOR, api_token_create
from core.testing.personas import create_personas

# The tests only read what Node printed; the mark has pytest-django set up the test database that the module's
# fixture commits the catalog to (it sets up only databases that some collected test asks for).
pytestmark = pytest.mark.django_db

SET, SEQUENCE, EXACT = "set", "sequence", "exact"

# Reads whose answer must equal the reference client's: compared as sets, in order, or as they are.
READS = {
    "getEntities: all": SET,
    "getEntities: repeated key ORs its values": SET,
    "getEntities: filter sets OR, keys AND": SET,
    "getEntities: CATALOG_FILTER_EXISTS": SET,
    "getEntities: keys and values compare case-insensitively": SET,
    "getEntities: relations.ownedBy": SET,
    "getEntities: fields": SET,
    "getEntities: order desc": SEQUENCE,
    "getEntities: order by two fields": SEQUENCE,
    "getEntities: offset and limit": SEQUENCE,
    "getEntitiesByRefs: in order, undefined where missing": SEQUENCE,
    "getEntitiesByRefs: filter": SEQUENCE,
    "getEntitiesByRefs: fields": SEQUENCE,
    "getEntitiesByRefs: query predicate with filter": SEQUENCE,
    "queryEntities: repeated key ORs its values": SET,
    "queryEntities: fullTextFilter in given fields": SET,
    "queryEntities: fullTextFilter without fields searches the sort field": SEQUENCE,
    "queryEntities: orderFields desc with limit": SEQUENCE,
    "queryEntities: offset": SEQUENCE,
    "queryEntities: fields": SET,
    "queryEntities: totalItems 'exclude'": SET,
    "queryEntities: query $in": SET,
    "queryEntities: query $any and $all": SET,
    "queryEntities: query $not": SET,
    "queryEntities: query $exists false": SET,
    "queryEntities: query $hasPrefix": SET,
    "queryEntities: query $contains a tag": SET,
    "queryEntities: query $contains a relation": SET,
    "queryEntities: query with filter": SET,
    "queryEntities: query with fullTextFilter and orderFields": SEQUENCE,
    "queryEntities: query with fields": SET,
    "getEntityByRef": EXACT,
    "getEntityByRef: compound ref": EXACT,
    "getEntityByName (deprecated)": EXACT,
    "getEntityFacets": EXACT,
    "getEntityFacets: filter": EXACT,
    "getEntityFacets: query predicate": EXACT,
}
CURSOR_PAGING = [
    "queryEntities: cursor paging visits every entity once",
    "queryEntities: cursor paging with filter and order",
    "queryEntities: cursor paging continues a predicate query",
]
STREAMS = ["streamEntities: every entity once", "streamEntities: filter", "streamEntities: query predicate"]


# --- the catalog ---------------------------------------------------------------------------------------------------


def entity(kind: str, name: str, spec: dict, **metadata) -> dict:
    api_version = "backstage.io/v1alpha1"
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, **metadata}, "spec": spec}


def component(number: int) -> dict:
    system = {1: "payments", 3: "payments", 5: "payments", 2: "search", 4: "search", 6: "search"}.get(number)
    spec = {
        "type": "service",
        "lifecycle": "experimental" if number % 3 == 0 else "production",
        "owner": "group:default/team-a" if number % 2 else "group:default/team-b",
        **({"system": system} if system else {}),
    }
    if number == 1:
        spec["providesApis"] = ["api:default/payments-api"]
    if number == 2:
        spec["consumesApis"] = ["api:default/search-api"]
    title = f"Payment service {number}" if system == "payments" else f"Service {number}"
    return entity("Component", f"svc-{number:02}", spec, title=title, tags=["java" if number <= 4 else "python"])


def website(number: int) -> dict:
    spec = {"type": "website", "lifecycle": "production", "owner": "group:default/team-b"}
    if number == 1:
        spec["system"] = "search"
    return entity("Component", f"web-{number:02}", spec, title=f"Web app {number}", tags=["frontend"])


def api(name: str, type: str, lifecycle: str, owner: str, system: str, definition: str) -> dict:
    spec = {"type": type, "lifecycle": lifecycle, "owner": owner, "system": system, "definition": definition}
    return entity("API", name, spec)


LEGACY = entity("Component", "legacy-widget", {"type": "library", "lifecycle": "deprecated", "owner": "team-a"})


def catalog_files(www: Path, local: Path) -> None:
    """The files: a Location file naming three child files; a standalone file; the file the client registers
    (``extra``) and the one it moves that location to (``moved``); a file on disk for the ``file`` location."""

    def write(path: Path, *documents: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump_all(documents, sort_keys=False))

    write(
        www / "catalog-info.yaml",
        entity("Location", "interop-root", {"targets": ["./org.yaml", "./systems.yaml", "./components.yaml"]}),
    )
    write(
        www / "org.yaml",
        entity("Group", "engineering", {"type": "department", "children": ["team-a", "team-b"]}),
        entity("Group", "team-a", {"type": "team", "children": [], "profile": {"displayName": "Team A"}}),
        entity("Group", "team-b", {"type": "team", "children": [], "profile": {"displayName": "Team B"}}),
        entity("User", "ada", {"memberOf": ["team-a"], "profile": {"email": "ada@example.com"}}),
        entity("User", "grace", {"memberOf": ["team-b"]}),
        entity("User", "linus", {"memberOf": ["team-a", "team-b"]}),
    )
    write(
        www / "systems.yaml",
        entity("System", "payments", {"owner": "team-a", "domain": "commerce"}),
        entity("System", "search", {"owner": "team-b"}),
        api("payments-api", "openapi", "production", "team-a", "payments", "openapi: 3.0.0\npaths: {}\n"),
        api("search-api", "grpc", "experimental", "team-b", "search", 'syntax = "proto3";'),
    )
    write(www / "components.yaml", *[component(n) for n in range(1, 9)], *[website(n) for n in range(1, 6)], LEGACY)
    write(
        www / "standalone.yaml",
        entity("Domain", "commerce", {"owner": "team-a"}),
        entity("Resource", "orders-db", {"type": "PostgreSQL", "owner": "team-a", "system": "payments"}),
    )
    newcomer = {"type": "service", "lifecycle": "experimental", "owner": "team-a"}
    write(www / "extra" / "catalog-info.yaml", entity("Component", "newcomer", newcomer))
    write(www / "moved" / "catalog-info.yaml", entity("Component", "newcomer", newcomer))
    write(local / "local.yaml", entity("Resource", "cache-01", {"type": "redis", "owner": "team-b"}))


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextmanager
def files_served(root: Path):
    """The folder over HTTP on 127.0.0.1: where ``url`` locations are read from."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def location_json(location: Location) -> dict:
    return {"id": str(location.pk), "type": location.type, "target": location.target}


def catalog_build(www: Path, files_url: str, local: Path) -> dict:
    """Register the catalog as the platform team would, leave ``legacy-widget`` an orphan, and make a token."""
    platform = create_personas()["platform"]
    # trusted: Groups and Users count only from trusted locations (PRODUCT §3.2)
    root = location_register(type="url", target=f"{files_url}/catalog-info.yaml", actor=platform, trusted=True).location
    standalone = location_register(type="url", target=f"{files_url}/standalone.yaml", actor=platform).location
    on_disk = location_register(type="file", target=str(local / "local.yaml"), actor=platform).location
    # legacy-widget leaves its file: it stays in the catalog as an orphan
    components = [component(n) for n in range(1, 9)] + [website(n) for n in range(1, 6)]
    (www / "components.yaml").write_text(yaml.safe_dump_all(components, sort_keys=False))
    location_refresh(location=Location.objects.get(target=f"{files_url}/components.yaml"), actor=OPERATOR)
    orphan = Entity.objects.get(ref="component:default/legacy-widget")
    assert orphan.orphan, "legacy-widget left its file: it should be an orphan"
    _, key = api_token_create(user=platform, name="backstage client", actor=platform)
    return {
        "token": key,
        "files": {"url": files_url, "localPath": str(local / "local.yaml")},
        "locations": {
            "root": location_json(root),
            "standalone": location_json(standalone),
            "local": location_json(on_disk),
        },
        "uids": {"orphan": str(orphan.uid), "live": str(Entity.objects.get(ref="component:default/svc-01").uid)},
        "extra": {"target": f"{files_url}/extra/catalog-info.yaml", "moved": f"{files_url}/moved/catalog-info.yaml"},
        "refs": sorted(Entity.objects.values_list("ref", flat=True)),
    }


def broker_messages() -> set[Path]:
    """The messages waiting in the embedded broker's folder (none to track with another broker)."""
    queue = Path(settings.BROKER_DIR) / "queue"
    return set(queue.glob("*.msg")) if settings.CELERY_EMBEDDED_BROKER and queue.is_dir() else set()


@pytest.fixture(scope="module")
def run(node_script, django_db_setup, django_db_blocker, tmp_path_factory):
    """Build the catalog, start a live server, run ``client.mjs`` once; flush the database afterwards."""
    root = tmp_path_factory.mktemp("backstage-client")
    www, local = root / "www", root / "local"
    catalog_files(www, local)
    queued_before = broker_messages()
    with files_served(www) as files_url, django_db_blocker.unblock():
        try:
            with override_settings(
                CATALOG_URL_ALLOWED_HOSTS=[files_url.removeprefix("http://")],
                CATALOG_FILE_ROOTS=[local.resolve()],
                CATALOG_MIRROR_DIR=root / "mirrors",
            ):
                facts = catalog_build(www, files_url, local)
                server = LiveServer("127.0.0.1:0")
                try:
                    with modify_settings(ALLOWED_HOSTS={"append": "127.0.0.1"}):
                        answer = node_script("client.mjs", {**facts, "baseUrl": f"{server.url}/api/catalog"})
                finally:
                    server.stop()
        finally:
            # as a transactional test ends: nothing committed here outlives the module, nor what the server queued
            # for a worker (a refresh of a url location): no worker runs here, and a later one must not find it
            call_command("flush", verbosity=0, interactive=False)
            for message in broker_messages() - queued_before:
                message.unlink(missing_ok=True)
    return {**answer, "facts": facts}


def case(run: dict, name: str) -> dict:
    assert name in run["cases"], f"client.mjs printed no case {name!r}"
    return run["cases"][name]


def shown(name: str, outcome: dict) -> str:
    """What a failing call did, for the assertion message: the client's error and requests, the direct answer."""
    return f"\n{name}:\n" + json.dumps(outcome, indent=1, default=str)[:6000]


def items_of(summary):
    return summary["items"] if isinstance(summary, dict) and "items" in summary else summary


def key(item) -> str:
    return json.dumps(item, sort_keys=True)


def ok(name: str, outcome: dict) -> None:
    assert outcome["ok"], f"the client's call failed{shown(name, outcome)}"


def same_as_direct(name: str, outcome: dict) -> None:
    assert outcome.get("same") is True, f"the client's answer differs from direct HTTP{shown(name, outcome)}"


def error(name: str, outcome: dict, status: int) -> None:
    assert not outcome["ok"], f"the client's call should fail with {status}{shown(name, outcome)}"
    assert outcome["error"]["statusCode"] == status, shown(name, outcome)
    assert outcome["direct"]["status"] == status, shown(name, outcome)


# --- the catalog the reference client holds -------------------------------------------------------------------------


def test_the_reference_client_holds_the_catalog_meshforge_has(run):
    assert sorted(run["snapshot"]) == run["facts"]["refs"]
    assert len(run["snapshot"]) >= 30


# --- reads, against Backstage's reference client --------------------------------------------------------------------


@pytest.mark.parametrize("name", READS)
def test_a_read_answers_as_backstage_and_as_direct_http(run, name):
    outcome = case(run, name)
    ok(name, outcome)
    assert outcome["direct"]["status"] == 200, shown(name, outcome)
    same_as_direct(name, outcome)
    value, expected = outcome["value"], outcome["expected"]
    assert items_of(expected), f"the reference client found nothing: the catalog misses a case{shown(name, outcome)}"
    if READS[name] == SET:
        assert sorted(map(key, items_of(value))) == sorted(map(key, items_of(expected))), shown(name, outcome)
    else:
        assert items_of(value) == items_of(expected), shown(name, outcome)
    if isinstance(expected, dict) and "totalItems" in expected and name != "queryEntities: totalItems 'exclude'":
        assert value["totalItems"] == expected["totalItems"], shown(name, outcome)


def test_orphans_carry_backstages_orphan_annotation(run):
    name = "getEntities: orphans by their annotation"
    outcome = case(run, name)
    ok(name, outcome)
    same_as_direct(name, outcome)
    assert outcome["value"] == ["component:default/legacy-widget"], shown(name, outcome)


def test_get_entities_with_a_limit_links_the_next_page_with_after(run):
    name = "getEntities: offset and limit"
    outcome = case(run, name)
    link = outcome["direct"]["link"] or ""
    assert 'rel="next"' in link and "after=" in link, shown(name, outcome)


def test_get_entities_follows_after_through_every_page_once(run):
    name = 'getEntities: after paging through Link rel="next"'
    outcome = case(run, name)
    ok(name, outcome)
    items, expected = outcome["value"]["items"], outcome["expected"]["items"]
    assert items == expected, shown(name, outcome)
    assert len(set(items)) == len(items), shown(name, outcome)
    assert len(outcome["requests"]) == -(-len(expected) // 4), f"pages of 4{shown(name, outcome)}"


@pytest.mark.parametrize("name", CURSOR_PAGING)
def test_query_entities_cursors_visit_each_entity_once(run, name):
    outcome = case(run, name)
    ok(name, outcome)
    value, expected = outcome["value"], outcome["expected"]
    assert len(set(value["items"])) == len(value["items"]), f"an entity came twice{shown(name, outcome)}"
    if name != CURSOR_PAGING[0]:  # ordered by name
        assert value["items"] == expected["items"], shown(name, outcome)
    else:
        assert sorted(value["items"]) == sorted(expected["items"]), shown(name, outcome)
    assert value["totalItems"] == len(expected["items"]), shown(name, outcome)
    assert len(value["pageSizes"]) > 1, f"it should have taken several pages{shown(name, outcome)}"
    assert value["back"] == value["firstPage"], f"page 2's prevCursor should bring page 1 back{shown(name, outcome)}"


@pytest.mark.parametrize("name", STREAMS)
def test_stream_entities_yields_each_entity_once(run, name):
    outcome = case(run, name)
    ok(name, outcome)
    assert len(set(outcome["value"])) == len(outcome["value"]), f"an entity came twice{shown(name, outcome)}"
    assert sorted(outcome["value"]) == sorted(outcome["expected"]), shown(name, outcome)


def test_get_entity_by_ref_answers_undefined_for_a_missing_entity(run):
    name = "getEntityByRef: missing is undefined"
    outcome = case(run, name)
    ok(name, outcome)
    assert outcome["value"] is None
    assert outcome["direct"]["status"] == 404, shown(name, outcome)


def test_get_entity_ancestors_climbs_to_the_registered_location(run):
    name = "getEntityAncestors"
    outcome = case(run, name)
    ok(name, outcome)
    same_as_direct(name, outcome)
    value = outcome["value"]
    assert value["rootEntityRef"] == "component:default/svc-01", shown(name, outcome)
    parents = {item["ref"]: item["parents"] for item in value["items"]}
    chain, ref = [], "component:default/svc-01"
    while ref in parents and parents[ref] and len(chain) < 10:
        assert all(parent in parents for parent in parents[ref]), f"a parent is not an item{shown(name, outcome)}"
        chain.append(ref := parents[ref][0])
    assert chain[:1] == ["location:default/interop-root"], shown(name, outcome)
    assert chain[-1].startswith("location:") and parents[chain[-1]] == [], shown(name, outcome)


def test_facets_name_values_as_written(run):
    outcome = case(run, "getEntityFacets")
    values = {facet: {value for value, _ in counts} for facet, counts in (outcome.get("value") or {}).items()}
    kinds = {"Component", "System", "API", "Group", "User", "Resource", "Domain", "Location"}
    assert kinds <= values.get("kind", set()), shown("getEntityFacets", outcome)
    assert "PostgreSQL" in values.get("spec.type", set()), shown("getEntityFacets", outcome)
    owners = values.get("relations.ownedBy", set())
    assert {"group:default/team-a", "group:default/team-b"} <= owners, shown("getEntityFacets", outcome)


# --- locations -----------------------------------------------------------------------------------------------------


def registered(run) -> list[dict]:
    return sorted(run["facts"]["locations"].values(), key=key)


def location_fields(items) -> list[dict]:
    return sorted(({k: item[k] for k in ("id", "type", "target")} for item in items), key=key)


def test_get_locations_lists_the_registered_locations(run):
    name = "getLocations"
    outcome = case(run, name)
    ok(name, outcome)
    same_as_direct(name, outcome)
    assert location_fields(outcome["value"]) == registered(run), shown(name, outcome)


def test_locations_name_their_location_entity(run):
    """Backstage's Location carries ``entityRef``, the Location entity standing for it."""
    outcome = case(run, "getLocations")
    ok("getLocations", outcome)
    for item in outcome["value"]:
        assert item["entityRef"] in run["snapshot"], shown("getLocations", outcome)


@pytest.mark.parametrize(
    ("name", "wanted"),
    [("queryLocations", {"root", "standalone", "local"}), ("queryLocations: query predicate", {"root", "standalone"})],
)
def test_query_locations(run, name, wanted):
    outcome = case(run, name)
    ok(name, outcome)
    same_as_direct(name, outcome)
    expected = sorted((run["facts"]["locations"][w] for w in wanted), key=key)
    assert location_fields(outcome["value"]["items"]) == expected, shown(name, outcome)
    assert outcome["value"]["totalItems"] == len(wanted), shown(name, outcome)


@pytest.mark.parametrize("name", ["queryLocations: cursor paging", "streamLocations"])
def test_location_pages_hold_each_location_once(run, name):
    outcome = case(run, name)
    ok(name, outcome)
    assert len(outcome["value"]) == len(registered(run)), shown(name, outcome)
    assert location_fields(outcome["value"]) == registered(run), shown(name, outcome)


@pytest.mark.parametrize(
    ("name", "wanted"),
    [
        ("getLocationById", "root"),
        ("getLocationByRef", "root"),
        ("getLocationByEntity: the Location entity of a registered file", "root"),
        ("getLocationByEntity: an entity of a registered file", "local"),
    ],
)
def test_a_location_by_id_ref_or_entity(run, name, wanted):
    outcome = case(run, name)
    ok(name, outcome)
    if "direct" in outcome:
        same_as_direct(name, outcome)
    assert outcome["value"] is not None, shown(name, outcome)
    assert location_fields([outcome["value"]]) == [run["facts"]["locations"][wanted]], shown(name, outcome)


@pytest.mark.parametrize("name", ["getLocationById: missing is undefined", "getLocationByEntity: missing is undefined"])
def test_a_missing_location_is_undefined(run, name):
    outcome = case(run, name)
    ok(name, outcome)
    assert outcome["value"] is None, shown(name, outcome)
    assert outcome["direct"]["status"] == 404, shown(name, outcome)


def test_add_location_dry_run_answers_201_and_keeps_nothing(run):
    name = "addLocation: dryRun"
    outcome = case(run, name)
    ok(name, outcome)
    assert outcome["direct"]["status"] == 201, shown(name, outcome)
    value = outcome["value"]
    assert value["location"]["type"] == "url"
    assert value["location"]["target"] == run["facts"]["extra"]["target"], shown(name, outcome)
    assert value["entities"] == ["component:default/newcomer"], shown(name, outcome)
    assert value["exists"] is False, shown(name, outcome)
    assert value["registeredAfter"] is False, shown(name, outcome)


def test_add_location_registers_with_201_then_conflicts(run):
    added = case(run, "addLocation")
    ok("addLocation", added)
    assert added["requests"] == ["POST /locations -> 201"], shown("addLocation", added)
    location = added["value"]["location"]
    assert location["type"] == "url", shown("addLocation", added)
    assert location["target"] == run["facts"]["extra"]["target"], shown("addLocation", added)
    assert added["direct"]["status"] == 200 and added["direct"]["value"]["id"] == location["id"]

    conflict = case(run, "addLocation: conflict")
    error("addLocation: conflict", conflict, 409)
    assert conflict["error"]["cause"]["name"] == "ConflictError", shown("addLocation: conflict", conflict)

    refreshed = case(run, "addLocation: onConflict 'refresh'")
    ok("addLocation: onConflict 'refresh'", refreshed)
    assert refreshed["value"]["location"]["id"] == location["id"], shown("onConflict refresh", refreshed)

    again = case(run, "addLocation: dryRun of a registered target")
    ok("addLocation: dryRun of a registered target", again)
    assert again["value"]["exists"] is True, shown("dryRun of a registered target", again)


def test_update_location_moves_its_target(run):
    name = "updateLocation"
    outcome = case(run, name)
    ok(name, outcome)
    moved = run["facts"]["extra"]["moved"]
    assert outcome["value"]["target"] == moved, shown(name, outcome)
    assert outcome["value"]["id"] == case(run, "addLocation")["value"]["location"]["id"]
    assert outcome["direct"]["status"] == 200 and outcome["direct"]["value"]["target"] == moved, shown(name, outcome)


def test_remove_location_by_id(run):
    name = "removeLocationById"
    outcome = case(run, name)
    ok(name, outcome)
    assert outcome["direct"]["status"] == 404, f"the location should be gone{shown(name, outcome)}"


@pytest.mark.parametrize(
    ("name", "location", "refs", "is_registered"),
    [
        (
            "analyzeLocation: a registered file",
            "standalone",
            ["domain:default/commerce", "resource:default/orders-db"],
            True,
        ),
        ("analyzeLocation: an unregistered file", "extra", ["component:default/newcomer"], False),
    ],
)
def test_analyze_location_shows_the_entities_of_a_file(run, name, location, refs, is_registered):
    outcome = case(run, name)
    ok(name, outcome)
    # a file not registered yet is read afresh for each answer: its entities get new uids, so only what the client
    # reads is compared
    assert outcome["value"] == outcome["direct"].get("value"), shown(name, outcome)
    facts = run["facts"]
    target = facts["extra"]["target"] if location == "extra" else facts["locations"][location]["target"]
    files = outcome["value"]["existingEntityFiles"]
    assert sorted(file["ref"] for file in files) == refs, shown(name, outcome)
    assert all(file["isRegistered"] is is_registered for file in files), shown(name, outcome)
    assert all(file["location"] == {"type": "url", "target": target} for file in files), shown(name, outcome)
    assert outcome["value"]["generateEntities"] == [], shown(name, outcome)


# --- entities: refresh and removal ----------------------------------------------------------------------------------


def test_refresh_entity(run):
    name = "refreshEntity"
    outcome = case(run, name)
    ok(name, outcome)
    assert outcome["direct"]["status"] == 200, shown(name, outcome)


def test_remove_entity_by_uid_removes_an_orphan(run):
    name = "removeEntityByUid: an orphan"
    outcome = case(run, name)
    ok(name, outcome)
    assert outcome["value"] == {"afterwards": None}, shown(name, outcome)
    assert outcome["direct"]["status"] == 404, shown(name, outcome)


def test_remove_entity_by_uid_refuses_a_live_entity_on_purpose(run):
    """Meshforge's deliberate difference (README): a live entity goes by leaving its file, not through the API."""
    name = "removeEntityByUid: a live entity is refused"
    outcome = case(run, name)
    assert not outcome["ok"] and outcome["error"]["statusCode"] == 409, shown(name, outcome)
    assert outcome["direct"]["status"] == 200, f"the entity should still be there{shown(name, outcome)}"


# --- validateEntity -------------------------------------------------------------------------------------------------


def test_validate_entity_accepts_a_valid_entity(run):
    name = "validateEntity: valid"
    outcome = case(run, name)
    ok(name, outcome)
    assert outcome["value"] == {"valid": True}, shown(name, outcome)
    assert outcome["direct"]["status"] == 200, shown(name, outcome)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("validateEntity: invalid, with its errors", ["name", "lifecycle"]),
        ("validateEntity: a file: location is refused", ["url"]),
        ("validateEntity: a malformed location ref", []),
    ],
)
def test_validate_entity_shows_why_it_refuses(run, name, words):
    outcome = case(run, name)
    ok(name, outcome)
    assert outcome["direct"]["status"] == 400, shown(name, outcome)
    same_as_direct(name, outcome)
    value = outcome["value"]
    assert value["valid"] is False, shown(name, outcome)
    assert value["errors"], f"the client shows no reason: the 400 needs `errors`{shown(name, outcome)}"
    assert all(isinstance(e.get("name"), str) and isinstance(e.get("message"), str) for e in value["errors"])
    messages = " ".join(e["message"] for e in value["errors"]).lower()
    assert all(word in messages for word in words), shown(name, outcome)
