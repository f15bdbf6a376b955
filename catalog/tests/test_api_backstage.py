"""The parts of Backstage's catalog API that its client relies on beyond by-query (issue 10): the whole list,
filter semantics, predicates, ancestry, locations by query and by entity, moving and analysing a location."""

import json

import pytest
from django.db import transaction
from django.test import override_settings

from catalog.models import Entity, Location
from catalog.selectors import EntityQuery, entity_query
from catalog.services import location_refresh, location_register
from catalog.tests.test_api_entities import CATALOG, component
from core.testing.git import GitRepo
from core.testing.personas import create_personas

API = "/api/catalog"
ALL = ["balances", "campaigns", "cashflow", "ledger"]  # and the generated Location entity


FILES = {
    "catalog-info.yaml": CATALOG + "---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: more\n"
    "spec:\n  targets: [./more/catalog-info.yaml]\n",
    "more/catalog-info.yaml": component("payments", type="Library", owner="group:Finance"),
}


@pytest.fixture(scope="module")
def registered(django_db_setup, django_db_blocker, tmp_path_factory):
    """The repository registered once for the module, in a transaction rolled back at the end (as Django's
    ``setUpTestData``): each test runs in a savepoint inside it. A test that changes the files puts them back."""
    folder = tmp_path_factory.mktemp("backstage-api")
    with (
        django_db_blocker.unblock(),
        override_settings(CATALOG_MIRROR_DIR=folder / "mirrors", CATALOG_URL_ALLOWED_HOSTS=[]),
        transaction.atomic(),
    ):
        repo = GitRepo(folder / "git", "finance", "main")
        repo.put(FILES)
        result = location_register(type="git", target=repo.target(), actor=create_personas()["platform"])
        assert result.errors == []
        yield repo, result.location.pk
        transaction.set_rollback(True)


@pytest.fixture
def repo(registered):
    return registered[0]


@pytest.fixture
def location(registered, db):
    return Location.objects.get(pk=registered[1])


@pytest.fixture
def client(api_client, carol):
    api_client.force_login(carol)
    return api_client


def names(items) -> list[str]:
    return sorted(item["metadata"]["name"] for item in items if not item["metadata"]["name"].startswith("generated-"))


def get_entities(client, **params):
    response = client.get(f"{API}/entities", params)
    assert response.status_code == 200, getattr(response, "content", b"")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, json.loads(body)


# --- filter semantics ------------------------------------------------------------------------------------------


def test_a_repeated_key_ors_its_values_and_different_keys_and_together(client, location):
    _, items = get_entities(client, filter="kind=component,kind=system")
    assert names(items) == ["balances", "campaigns", "cashflow", "ledger", "payments"]
    _, items = get_entities(client, filter="kind=component,spec.type=service,spec.type=website")
    assert names(items) == ["balances", "campaigns", "ledger"]


def test_separate_filters_or_together_and_a_bare_key_means_it_exists(client, location):
    _, items = get_entities(client, filter=["kind=system", "spec.type=library"])
    assert names(items) == ["cashflow", "payments"]
    _, items = get_entities(client, filter="metadata.title")
    assert names(items) == ["balances", "campaigns"]


def test_a_list_item_is_a_key_of_its_own_so_two_tags_can_be_asked_for_at_once(client, location):
    _, items = get_entities(client, filter="metadata.tags.finance,metadata.tags.money")
    assert names(items) == ["ledger"]
    _, items = get_entities(client, filter="metadata.tags.money=true")
    assert names(items) == ["ledger"]


def test_values_compare_case_insensitively_and_facets_show_them_as_written(client, location):
    _, items = get_entities(client, filter="spec.type=LIBRARY")
    assert names(items) == ["payments"]
    facets = client.get(f"{API}/entity-facets", {"facet": ["spec.type", "relations.ownedBy"]}).json()["facets"]
    assert {"value": "Library", "count": 1} in facets["spec.type"]
    owners = {row["value"]: row["count"] for row in facets["relations.ownedBy"]}
    assert owners == {"group:default/finance": 4, "group:default/marketing": 1}


def test_by_refs_leaves_out_the_entities_the_filter_does_not_match(client, location):
    refs = ["component:ledger", "system:cashflow", "component:nope"]
    response = client.post(f"{API}/entities/by-refs?filter=kind=system", {"entityRefs": refs}, format="json")
    assert [item and item["metadata"]["name"] for item in response.json()["items"]] == [None, "cashflow", None]
    body = {"entityRefs": refs, "query": {"kind": "component"}}
    response = client.post(f"{API}/entities/by-refs", body, format="json")
    assert [item and item["metadata"]["name"] for item in response.json()["items"]] == ["ledger", None, None]


# --- GET /entities ---------------------------------------------------------------------------------------------


def test_the_whole_list_is_streamed_as_one_json_array(client, location):
    response, items = get_entities(client)
    assert response.streaming
    assert names(items) == ["balances", "campaigns", "cashflow", "ledger", "more", "payments"]
    assert all("relations" in item for item in items)
    _, items = get_entities(client, fields="metadata.name", filter="kind=system")
    assert items == [{"metadata": {"name": "cashflow"}}]


def test_pages_follow_the_link_header_and_visit_each_entity_once(client, location):
    seen = []
    response, items = get_entities(client, limit=2, order="desc:metadata.name", filter="kind=component")
    seen += [item["metadata"]["name"] for item in items]
    while "Link" in response:
        link = response["Link"]
        assert link.endswith('>; rel="next"')
        response = client.get(link[1 : link.index(">")])
        seen += [item["metadata"]["name"] for item in response.json()]
    assert seen == ["payments", "ledger", "campaigns", "balances"]
    _, items = get_entities(client, offset=3, limit=10, order="asc:metadata.name", filter="kind=component")
    assert names(items) == ["payments"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"order": "sideways:metadata.name"}, "order"), ({"after": "forged"}, "after"), ({"limit": "-1"}, "limit")],
)
def test_bad_list_parameters_are_a_400_naming_them(client, location, params, field):
    response = client.get(f"{API}/entities", params)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(f"{field}: ")


# --- predicates ------------------------------------------------------------------------------------------------


def by_predicate(client, body):
    response = client.post(f"{API}/entities/by-query", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_predicate_query_combines_all_any_not_in_exists_and_prefix(client, location):
    either = {"$any": [{"kind": "component", "spec.type": "website"}, {"kind": "System"}]}
    assert names(by_predicate(client, {"query": either})["items"]) == ["balances", "cashflow"]
    query = {"$all": [{"kind": "component"}, {"$not": {"spec.owner": {"$in": ["group:finance", "group:Finance"]}}}]}
    assert names(by_predicate(client, {"query": query})["items"]) == ["campaigns"]
    query = {"kind": "component", "metadata.title": {"$exists": False}, "metadata.name": {"$hasPrefix": "PAY"}}
    assert names(by_predicate(client, {"query": query})["items"]) == ["payments"]
    assert names(by_predicate(client, {"query": {"metadata.tags": {"$contains": "money"}}})["items"]) == ["ledger"]


def test_predicate_cursors_visit_each_entity_once(client, location):
    body = by_predicate(client, {"query": {"kind": "component"}, "limit": 2, "orderBy": [{"field": "metadata.name"}]})
    seen = names(body["items"])
    assert body["totalItems"] == 4
    while "nextCursor" in body["pageInfo"]:
        body = by_predicate(client, {"cursor": body["pageInfo"]["nextCursor"], "limit": 2})
        seen += names(body["items"])
    assert seen == ["balances", "campaigns", "ledger", "payments"]


def test_the_total_comes_with_the_page_and_is_still_counted_past_the_end(location):
    components = [[("kind", "component")]]
    page = entity_query(EntityQuery(filters=components, offset=3, limit=2))
    assert [entity.name for entity in page.items] == ["payments"] and page.total == 4 and page.next_cursor is None
    page = entity_query(EntityQuery(filters=components, offset=10, limit=2))  # entities removed since page one
    assert page.items == [] and page.total == 4 and page.prev_cursor is not None
    page = entity_query(EntityQuery(filters=[[("kind", "nothing")]], limit=2))
    assert page.items == [] and page.total == 0


def test_total_items_can_be_left_out_and_the_next_page_is_still_known(client, location):
    body = client.get(f"{API}/entities/by-query", {"filter": "kind=component", "limit": 3, "totalItems": "exclude"})
    assert body.json()["totalItems"] == 0
    assert "nextCursor" in body.json()["pageInfo"]


def test_facets_of_a_predicate(client, location):
    response = client.post(
        f"{API}/entity-facets", {"facets": ["kind"], "query": {"spec.owner": "group:finance"}}, format="json"
    )
    assert response.json() == {
        "facets": {"kind": [{"value": "Component", "count": 3}, {"value": "System", "count": 1}]}
    }


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ([], "query: expected an object"),
        ({"$all": {}}, "query.$all: expected a list"),
        ({"$any": [{"kind": "x"}], "kind": "y"}, "query: $any must be the only key"),
        ({"kind": {"$regex": "x"}}, "query.kind: unknown operator"),
        ({"$all": [{"kind": {"$in": [{}]}}]}, "query.$all[0].kind.$in[0]: expected a string"),
        ({"$nope": 1}, "query.$nope: not a field path"),
    ],
)
def test_a_bad_predicate_is_a_400_naming_where(client, location, query, where):
    response = client.post(f"{API}/entities/by-query", {"query": query}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(where), response.json()


# --- ancestry, origin, orphans ---------------------------------------------------------------------------------


def test_ancestry_leads_through_the_location_entities_to_the_registered_location(client, location):
    body = client.get(f"{API}/entities/by-name/component/default/payments/ancestry").json()
    generated = f"location:default/{location.generated_entity_name}"
    assert body["rootEntityRef"] == "component:default/payments"
    chain = [(item["entity"]["metadata"]["name"], item["parentEntityRefs"]) for item in body["items"]]
    assert chain == [("payments", ["location:default/more"]), ("more", [generated]), (generated.split("/")[1], [])]


def test_entities_name_their_origin_location_and_the_client_finds_it(client, location, repo):
    payments = client.get(f"{API}/entities/by-name/component/default/payments").json()
    annotations = payments["metadata"]["annotations"]
    assert annotations["backstage.io/managed-by-origin-location"] == f"git:{location.target}"
    assert annotations["backstage.io/managed-by-location"] != annotations["backstage.io/managed-by-origin-location"]
    response = client.get(f"{API}/locations/by-entity/component/default/payments")
    assert response.json() == {
        "id": str(location.pk),
        "type": "git",
        "target": location.target,
        "entityRef": location.entity_ref,
    }
    assert client.get(f"{API}/locations/by-entity/component/default/nope").status_code == 404


def test_orphans_carry_backstages_orphan_annotation_and_can_be_filtered_on_it(client, location, repo, platform_user):
    repo.put({"catalog-info.yaml": FILES["catalog-info.yaml"].replace("name: campaigns", "name: campaigns-two")})
    try:
        location_refresh(location=location, actor=platform_user)
    finally:
        repo.put(FILES)  # the next tests read the module's repository as registered
    orphan = client.get(f"{API}/entities/by-name/component/default/campaigns").json()
    assert orphan["metadata"]["annotations"]["backstage.io/orphan"] == "true"
    _, items = get_entities(client, filter="metadata.annotations.backstage.io/orphan=true")
    assert names(items) == ["campaigns"]
    live = client.get(f"{API}/entities/by-name/component/default/ledger").json()
    assert "backstage.io/orphan" not in live["metadata"]["annotations"]


# --- locations -------------------------------------------------------------------------------------------------


def test_locations_by_query_match_a_predicate_and_page_with_cursors(client, location, make_repo, platform_user):
    other = make_repo("other")
    other.put({"catalog-info.yaml": component("solo")})
    location_register(type="git", target=other.target(), actor=platform_user)
    body = client.post(f"{API}/locations/by-query", {"limit": 1}, format="json").json()
    assert body["totalItems"] == 2
    second = client.post(f"{API}/locations/by-query", {"cursor": body["pageInfo"]["nextCursor"]}, format="json")
    assert [item["id"] for item in body["items"] + second.json()["items"]] == [
        str(pk) for pk in Location.objects.filter(parent=None).order_by("pk").values_list("pk", flat=True)
    ]
    target = Location.objects.get(target__contains="other").target
    query = {"query": {"target": {"$hasPrefix": target[:-5].upper()}, "type": "GIT"}}
    body = client.post(f"{API}/locations/by-query", query, format="json").json()
    assert [item["target"] for item in body["items"]] == [target]


def test_moving_a_location_reads_the_new_target_and_orphans_what_only_the_old_held(
    api_client, location, make_repo, platform_user, carol
):
    other = make_repo("other")
    other.put({"catalog-info.yaml": component("solo")})
    api_client.force_login(carol)
    url = f"{API}/locations/{location.pk}"
    assert api_client.put(url, {"type": "git", "target": other.target()}, format="json").status_code == 403
    api_client.force_login(platform_user)
    response = api_client.put(url, {"type": "git", "target": other.target()}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["target"] == Location.objects.get(pk=location.pk).target != location.target
    assert not Entity.objects.get(ref="component:default/solo").orphan
    assert Entity.objects.get(ref="component:default/ledger").orphan
    bad = api_client.put(url, {"type": "git", "target": "not a target"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["message"].startswith("target: ")


def test_registering_again_is_a_409_or_a_refresh_when_asked(api_client, location, repo, platform_user):
    api_client.force_login(platform_user)
    body = {"type": "git", "target": repo.target()}
    assert api_client.post(f"{API}/locations", body, format="json").status_code == 409
    response = api_client.post(f"{API}/locations?onConflict=refresh", body, format="json")
    assert response.status_code == 201
    assert response.json()["exists"] is True
    assert response.json()["location"]["id"] == str(location.pk)


def analyze(client, repo):
    return client.post(f"{API}/analyze-location", {"location": {"type": "git", "target": repo.target()}}, format="json")


def test_analyzing_a_location_says_what_registering_would_give_and_keeps_nothing(
    api_client, platform_user, location, repo, make_repo
):
    client = api_client
    client.force_login(platform_user)  # git repositories on this disk are for staff to register
    response = client.post(
        f"{API}/analyze-location", {"location": {"type": "git", "target": repo.target()}}, format="json"
    )
    files = response.json()["existingEntityFiles"]
    assert {file["isRegistered"] for file in files} == {True}
    assert "ledger" in names(file["entity"] for file in files)

    fresh = make_repo("fresh")
    fresh.put({"catalog-info.yaml": component("newcomer")})
    before = Entity.objects.count()
    response = client.post(
        f"{API}/analyze-location", {"location": {"type": "git", "target": fresh.target()}}, format="json"
    )
    (file,) = response.json()["existingEntityFiles"]
    assert (file["isRegistered"], file["entity"]["metadata"]["name"]) == (False, "newcomer")
    assert Entity.objects.count() == before

    empty = make_repo("empty-repo")
    empty.put({"README.md": "nothing here\n"})
    body = client.post(
        f"{API}/analyze-location", {"location": {"type": "git", "target": empty.target()}}, format="json"
    ).json()
    assert body["existingEntityFiles"] == []
    (generated,) = body["generateEntities"]
    assert generated["entity"]["metadata"]["name"] == "empty-repo"
    assert generated["fields"][0]["field"] == "spec.owner"


def test_analyzing_a_bad_target_is_a_400_naming_it(client, location):
    response = client.post(f"{API}/analyze-location", {"location": {"type": "ftp", "target": "x"}}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("location.type: "), response.json()
    response = client.post(f"{API}/analyze-location", {"location": {"type": "git", "target": "::"}}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("location.target: ")


# --- the pages ------------------------------------------------------------------------------------------------


def test_the_entity_page_shows_the_location_entities_that_brought_it_in(client, location):
    page = client.get("/catalog/entity/component/default/payments/").content.decode()
    assert 'href="/catalog/entity/location/default/more/"' in page
    assert f'href="/catalog/locations/{location.pk}/"' in page


def test_the_location_page_changes_the_target_with_errors_next_to_the_field(
    api_client, location, make_repo, platform_user, carol
):
    url = f"/catalog/locations/{location.pk}/change/"
    api_client.force_login(carol)
    assert api_client.get(url).status_code == 403
    api_client.force_login(platform_user)
    response = api_client.post(url, {"type": "git", "target": "https://"})
    assert response.status_code == 400
    assert 'class="field field-invalid"' in response.content.decode()  # the message sits next to the target
    other = make_repo("moved")
    other.put({"catalog-info.yaml": component("moved-in")})
    response = api_client.post(url, {"type": "git", "target": other.target()})
    assert response.status_code == 302
    assert not Entity.objects.get(ref="component:default/moved-in").orphan


def test_relations_are_matched_as_backstage_reads_a_contains_on_them(client, location):
    owned = {"relations": {"$contains": {"type": "ownedBy", "targetRef": "group:default/marketing"}}}
    assert names(by_predicate(client, {"query": owned})["items"]) == ["campaigns"]
    any_owner = {"kind": "system", "relations": {"$contains": {"type": "OWNEDBY"}}}
    assert names(by_predicate(client, {"query": any_owner})["items"]) == ["cashflow"]
    refs = {"relations": {"$contains": {"type": "partOf", "targetRef": {"$in": ["system:default/cashflow"]}}}}
    assert names(by_predicate(client, {"query": refs})["items"]) == ["ledger"]
    bad = client.post(
        f"{API}/entities/by-query", {"query": {"relations": {"$contains": {"kind": "x"}}}}, format="json"
    ).json()
    assert bad["error"]["message"].startswith("query.relations.$contains.kind: ")


def test_full_text_without_fields_looks_in_the_first_order_field_as_backstage(client, location):
    body = {"fullTextFilter": {"term": "LEDG"}, "orderBy": [{"field": "metadata.name", "order": "asc"}]}
    assert names(by_predicate(client, body)["items"]) == ["ledger"]
    body = {"fullTextFilter": {"term": "daily", "fields": ["metadata.title"]}}
    assert names(by_predicate(client, body)["items"]) == ["balances"]
    assert by_predicate(client, {"fullTextFilter": {"term": "daily"}})["items"] == []  # the uid holds no "daily"


def test_a_predicate_querys_cursor_tells_backstages_client_to_continue_with_post(client, location):
    import base64

    body = by_predicate(client, {"query": {"kind": "component"}, "limit": 1})
    decoded = json.loads(base64.b64decode(body["pageInfo"]["nextCursor"]))
    assert decoded["query"] == {"kind": "component"}
    forged = base64.b64encode(json.dumps({"query": {}, "cursor": "x:y"}).encode()).decode()
    response = client.post(f"{API}/entities/by-query", {"cursor": forged}, format="json")
    assert response.status_code == 400


def test_locations_carry_the_ref_of_their_location_entity(client, location):
    item = client.get(f"{API}/locations/{location.pk}").json()
    assert item["entityRef"] == f"location:default/{location.generated_entity_name}"
    assert Entity.objects.filter(ref=item["entityRef"]).exists()
