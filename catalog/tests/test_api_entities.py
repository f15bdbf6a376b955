"""The catalog API's entity endpoints, with Backstage's paths and shapes (PRODUCT §3.4), on entities that a
real Git location emitted."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Entity
from catalog.services import location_register

API = "/api/catalog"
BY_QUERY = f"{API}/entities/by-query"


def component(name: str, *, type: str = "service", owner: str = "group:finance", **metadata) -> str:
    lines = ["apiVersion: backstage.io/v1alpha1", "kind: Component", "metadata:", f"  name: {name}"]
    lines += [f"  {key}: {value}" for key, value in metadata.items()]
    lines += ["spec:", f"  type: {type}", "  lifecycle: production", f"  owner: {owner}"]
    return "\n".join(lines) + "\n"


def system(name: str, *, owner: str = "group:finance") -> str:
    return f"apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: {name}\nspec:\n  owner: {owner}\n"


CATALOG = "---\n".join(
    [
        component("ledger", description="Ledger of all Postings", tags="[finance, money]")
        + "  system: system:cashflow\n",
        component("balances", type="website", title="Daily Balances", tags="[finance]"),
        component("campaigns", owner="group:marketing", title="Campaign tracker", tags="[marketing]"),
        system("cashflow"),
    ]
)


@pytest.fixture
def repo(make_repo):
    return make_repo("finance")


@pytest.fixture
def location(repo, platform_user):
    repo.put({"catalog-info.yaml": CATALOG})
    result = location_register(type="git", target=repo.target(), actor=platform_user)
    assert result.errors == []
    return result.location


@pytest.fixture
def client(api_client, carol):
    """Any signed-in user reads the catalog; carol is a consumer in no team."""
    api_client.force_login(carol)
    return api_client


def query(client, **params):
    response = client.get(BY_QUERY, params)
    assert response.status_code == 200, response.content
    return response.json()


def names(body) -> list[str]:
    return [item["metadata"]["name"] for item in body["items"]]


def assert_input_error(response, param: str):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"]["name"] == "InputError"
    assert body["error"]["message"].startswith(f"{param}: "), body
    assert body["response"] == {"statusCode": 400}


# --- by-query ----------------------------------------------------------------------------------------------


def test_by_query_answers_items_total_and_page_info_as_backstage(client, location):
    body = query(client, filter="kind=component")

    assert body["totalItems"] == 3
    assert body["pageInfo"] == {}
    assert names(body) == ["balances", "campaigns", "ledger"]
    ledger = body["items"][2]
    stored = Entity.objects.get(ref="component:default/ledger")
    assert ledger["apiVersion"] == "backstage.io/v1alpha1"
    assert ledger["kind"] == "Component"
    assert ledger["metadata"]["uid"] == str(stored.uid)
    assert ledger["metadata"]["etag"] == stored.result_hash
    assert ledger["metadata"]["namespace"] == "default"
    assert ledger["spec"]["owner"] == "group:finance"
    assert "status" not in ledger
    assert {"type": "ownedBy", "targetRef": "group:default/finance",
            "target": {"kind": "group", "namespace": "default", "name": "finance"}} in ledger["relations"]  # fmt: skip
    assert {relation["type"] for relation in ledger["relations"]} == {"ownedBy", "partOf"}


def test_without_a_filter_every_entity_is_served_including_the_generated_location(client, location):
    body = query(client)
    assert body["totalItems"] == 5
    assert {item["kind"] for item in body["items"]} == {"Component", "System", "Location"}


def test_conditions_within_one_filter_are_and_ed(client, location):
    assert names(query(client, filter="kind=component,spec.type=service")) == ["campaigns", "ledger"]


def test_repeated_filters_are_or_ed(client, location):
    assert names(query(client, filter=["kind=system", "spec.type=website"])) == ["balances", "cashflow"]


def test_filters_compare_keys_and_values_case_insensitively(client, location):
    assert names(query(client, filter="KIND=Component,Spec.Type=SERVICE")) == ["campaigns", "ledger"]
    assert names(query(client, filter="metadata.tags=MONEY")) == ["ledger"]


def test_a_bare_key_matches_entities_that_have_it(client, location):
    assert names(query(client, filter="spec.system")) == ["ledger"]
    assert names(query(client, filter="kind=component,metadata.title")) == ["balances", "campaigns"]


def test_relations_can_be_filtered_on(client, location):
    assert names(query(client, filter="relations.ownedBy=group:default/marketing")) == ["campaigns"]


def test_fields_keep_only_the_listed_dotted_paths(client, location):
    body = query(client, filter="kind=component", fields="kind,metadata.name,spec.nothing")
    assert body["items"][0] == {"kind": "Component", "metadata": {"name": "balances"}}


def test_fields_may_be_repeated_and_reach_metadata_uid_and_relations(client, location):
    body = query(client, filter="kind=system", fields=["metadata.uid", "relations"])
    (item,) = body["items"]
    assert set(item) == {"metadata", "relations"}
    assert item["metadata"] == {"uid": str(Entity.objects.get(kind="System").uid)}
    assert {relation["type"] for relation in item["relations"]} == {"hasPart", "ownedBy"}


def test_order_field_sorts_ascending_or_descending(client, location):
    assert names(query(client, filter="kind=component", orderField="metadata.name,desc")) == [
        "ledger",
        "campaigns",
        "balances",
    ]
    assert names(query(client, filter="kind=component", orderField=["spec.type,asc", "metadata.name,desc"])) == [
        "ledger",
        "campaigns",
        "balances",
    ]


def test_full_text_term_matches_a_case_insensitive_substring(client, location):
    fields = "metadata.name,metadata.title"  # as Backstage's catalog page asks
    assert names(query(client, fullTextFilterTerm="EDG", fullTextFilterFields=fields)) == ["ledger"]
    assert names(query(client, fullTextFilterTerm="tracker", fullTextFilterFields=fields)) == ["campaigns"]
    # without fields, as Backstage: the first order field, else the uid
    assert names(query(client, fullTextFilterTerm="EDG", orderField="metadata.name")) == ["ledger"]
    assert query(client, fullTextFilterTerm="tracker")["totalItems"] == 0


def test_full_text_fields_limit_where_the_term_is_looked_for(client, location):
    assert names(query(client, fullTextFilterTerm="postings", fullTextFilterFields="metadata.description")) == [
        "ledger"
    ]
    assert names(query(client, fullTextFilterTerm="ledger", fullTextFilterFields="metadata.description")) == ["ledger"]
    assert query(client, fullTextFilterTerm="ledger", fullTextFilterFields="spec.type")["totalItems"] == 0


def test_cursors_page_through_every_item_forwards_and_back(client, location):
    first = query(client, limit=2)
    assert first["totalItems"] == 5
    assert set(first["pageInfo"]) == {"nextCursor"}
    seen = names(first)
    page = first
    while "nextCursor" in page["pageInfo"]:
        # the cursor carries the query: other parameters are ignored, the limit is taken anew
        page = query(client, cursor=page["pageInfo"]["nextCursor"], limit=2, filter="kind=nothing")
        assert page["totalItems"] == 5
        seen += names(page)
    assert len(seen) == 5
    assert seen == names(query(client, limit=10))
    assert len(page["items"]) == 1
    back = query(client, cursor=page["pageInfo"]["prevCursor"], limit=2)
    assert names(back) == seen[2:4]


def test_a_cursor_keeps_the_filter_and_order_of_the_first_page(client, location):
    first = query(client, filter="kind=component", orderField="metadata.name,desc", limit=1)
    second = query(client, cursor=first["pageInfo"]["nextCursor"])
    assert names(first) + names(second)[:1] == ["ledger", "campaigns"]
    assert second["totalItems"] == 3


def test_a_tampered_cursor_is_a_400_naming_the_cursor(client, location):
    cursor = query(client, limit=1)["pageInfo"]["nextCursor"]
    value, _, signature = cursor.rpartition(":")
    tampered = value[:-2] + ("AA" if value[-2:] != "AA" else "BB") + ":" + signature
    for bad in (tampered, "garbage", cursor[:-1], "x" * 30_000):
        assert_input_error(client.get(BY_QUERY, {"cursor": bad}), "cursor")


@pytest.mark.parametrize("bad", ["", ",kind=component", "kind=component,", "=x", "a\x00b"])
def test_a_bad_filter_is_a_400_naming_the_filter(client, location, bad):
    assert_input_error(client.get(BY_QUERY, {"filter": bad}), "filter")


@pytest.mark.parametrize("bad", ["abc", "-1", "1.5", "1e3", "٣"])
def test_a_bad_limit_is_a_400_naming_the_limit(client, location, bad):
    assert_input_error(client.get(BY_QUERY, {"limit": bad}), "limit")


def test_a_limit_above_the_maximum_is_served_at_the_maximum(client, location):
    assert query(client, limit="100000")["totalItems"] == 5


def test_a_limit_of_zero_answers_only_the_total(client, location):
    body = query(client, limit=0)
    assert body["items"] == [] and body["totalItems"] == 5


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"orderField": "metadata.name,sideways"}, "orderField"),
        ({"orderField": ",asc"}, "orderField"),
        ({"fields": "metadata..name"}, "fields"),
        ({"fields": ",".join(f"f{index}" for index in range(101))}, "fields"),
        ({"filter": ",".join(f"k{index}=v" for index in range(101))}, "filter"),
        ({"fullTextFilterTerm": "x\x00"}, "fullTextFilterTerm"),
        ({"fullTextFilterTerm": "x" * 1001}, "fullTextFilterTerm"),
    ],
)
def test_other_bad_parameters_are_400s_naming_them(client, location, params, param):
    assert_input_error(client.get(BY_QUERY, params), param)


def test_hostile_but_harmless_values_simply_match_nothing(client, location):
    for value in ("%", "_", "'; DROP TABLE catalog_entity; --", "\\", "x" * 900, "☃"):
        assert query(client, filter=f"metadata.name={value}")["totalItems"] == 0
        assert query(client, fullTextFilterTerm=value)["totalItems"] == 0


def many_components(count: int) -> str:
    return "---\n".join(component(f"c{index:03}", tags="[bulk]") for index in range(count))


@pytest.mark.parametrize("count", [5, 50])
def test_by_query_takes_the_same_number_of_queries_whatever_the_number_of_entities(
    client, make_repo, platform_user, count
):
    repo = make_repo(f"bulk{count}")
    repo.put({"catalog-info.yaml": many_components(count)})
    location_register(type="git", target=repo.target(), actor=platform_user)
    client.get(BY_QUERY)  # warm the session

    with CaptureQueriesContext(connection) as queries:
        body = query(client, filter="kind=component,metadata.tags=bulk", orderField="metadata.name", limit=500)

    assert body["totalItems"] == count
    assert all(item["relations"] for item in body["items"])
    # session + user, then the count, the page and its relations
    assert len(queries) == 5, [q["sql"] for q in queries]


# --- by-name, by-uid ---------------------------------------------------------------------------------------


def test_by_name_answers_the_entity_case_insensitively(client, location):
    response = client.get(f"{API}/entities/by-name/COMPONENT/Default/Ledger")
    assert response.status_code == 200
    assert response.json()["metadata"]["name"] == "ledger"
    assert response.json()["relations"]


def test_by_name_answers_404_in_backstage_shape_for_an_unknown_entity(client, location):
    response = client.get(f"{API}/entities/by-name/component/default/nothing")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"name": "NotFoundError", "message": "No entity named component:default/nothing"},
        "response": {"statusCode": 404},
    }


@pytest.mark.parametrize("name", ["a%00b", "x" * 64, "%E2%98%83"])
def test_by_name_with_impossible_names_is_a_404_not_an_error(client, location, name):
    assert client.get(f"{API}/entities/by-name/component/default/{name}").status_code == 404


def test_by_uid_answers_the_entity(client, location):
    uid = Entity.objects.get(ref="component:default/ledger").uid
    response = client.get(f"{API}/entities/by-uid/{uid}")
    assert response.status_code == 200
    assert response.json()["metadata"]["uid"] == str(uid)


@pytest.mark.parametrize("uid", ["00000000-0000-0000-0000-000000000000", "not-a-uid", "1" * 500])
def test_by_uid_answers_404_for_unknown_or_malformed_uids(client, location, uid):
    response = client.get(f"{API}/entities/by-uid/{uid}")
    assert response.status_code == 404
    assert response.json()["error"]["name"] == "NotFoundError"


def test_deleting_a_live_entity_by_uid_is_a_conflict(client, location, platform_user):
    client.force_login(platform_user)
    uid = Entity.objects.get(ref="component:default/ledger").uid
    response = client.delete(f"{API}/entities/by-uid/{uid}")
    assert response.status_code == 409
    body = response.json()
    assert body["error"]["name"] == "ConflictError"
    assert "not an orphan" in body["error"]["message"]
    assert body["response"] == {"statusCode": 409}
    assert Entity.objects.filter(uid=uid).exists()


def test_deleting_an_orphan_by_uid_removes_it(client, repo, location, platform_user):
    repo.put({"catalog-info.yaml": component("ledger")})
    assert client.post(f"{API}/refresh", {"entityRef": "component:default/ledger"}, format="json").status_code == 200
    orphan = Entity.objects.get(ref="component:default/balances")
    assert orphan.orphan

    refused = client.delete(f"{API}/entities/by-uid/{orphan.uid}")
    assert refused.status_code == 403, "carol neither is staff nor registered the location"
    assert refused.json()["error"]["name"] == "NotAllowedError"
    client.force_login(platform_user)
    response = client.delete(f"{API}/entities/by-uid/{orphan.uid}")

    assert response.status_code == 204
    assert not Entity.objects.filter(pk=orphan.pk).exists()


def test_an_entity_with_errors_shows_them_as_backstage_status_items(client, repo, location):
    repo.put({"catalog-info.yaml": CATALOG.replace("  lifecycle: production\n", "", 1)})
    client.post(f"{API}/refresh", {"entityRef": "component:default/ledger"}, format="json")

    body = client.get(f"{API}/entities/by-name/component/default/ledger").json()

    assert body["spec"]["lifecycle"] == "production"  # the last good version is kept
    (item,) = body["status"]["items"]
    assert item["type"] == "backstage.io/catalog-processing"
    assert item["level"] == "error"
    assert "spec.lifecycle" in item["message"]
    assert item["error"] == {"name": "InputError", "message": item["message"]}
    assert "status" not in client.get(f"{API}/entities/by-name/component/default/balances").json()


# --- by-refs -----------------------------------------------------------------------------------------------


def test_by_refs_answers_entities_in_order_with_null_for_unknown_refs(client, location):
    refs = ["system:default/cashflow", "component:default/nothing", "Component:Ledger", "no-kind", "", "a:"]
    response = client.post(f"{API}/entities/by-refs", {"entityRefs": refs}, format="json")

    assert response.status_code == 200
    items = response.json()["items"]
    assert [item and item["metadata"]["name"] for item in items] == ["cashflow", None, "ledger", None, None, None]
    assert items[0]["relations"] and "uid" in items[0]["metadata"]


def test_by_refs_projects_fields_from_the_body_or_the_query(client, location):
    body = {"entityRefs": ["component:default/ledger"], "fields": ["metadata.name"]}
    response = client.post(f"{API}/entities/by-refs", body, format="json")
    assert response.json() == {"items": [{"metadata": {"name": "ledger"}}]}

    response = client.post(f"{API}/entities/by-refs?fields=kind", {"entityRefs": ["system:cashflow"]}, format="json")
    assert response.json() == {"items": [{"kind": "System"}]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{}", "entityRefs: This field is required."),
        ('{"entityRefs": "component:default/ledger"}', 'entityRefs: Expected a list of items but got type "str".'),
        ('{"entityRefs": ["ok", {"a": 1}]}', "entityRefs[1]: Not a valid string."),
        ('{"entityRefs": ["a\\u0000"]}', "entityRefs[0]: Null characters are not allowed."),
        ('{"entityRefs": ["\\ud800"]}', "entityRefs[0]: Surrogate characters are not allowed: U+D800."),
        ('["component:default/ledger"]', "request body: Invalid data. Expected a dictionary, but got list."),
        ('{"entityRefs": [], "fields": "kind"}', 'fields: Expected a list of items but got type "str".'),
        ('{"entityRefs": [', "JSON parse error - Expecting value: line 1 column 17 (char 16)"),
    ],
)
def test_by_refs_with_a_malformed_body_is_a_400_naming_the_field(client, location, body, message):
    response = client.post(f"{API}/entities/by-refs", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == {"name": "InputError", "message": message}


# --- facets ------------------------------------------------------------------------------------------------


def test_facets_count_entities_per_value(client, location):
    response = client.get(f"{API}/entity-facets", {"facet": ["kind", "spec.type"]})

    assert response.status_code == 200
    facets = response.json()["facets"]
    # values as written, as Backstage's facets show them
    assert {row["value"]: row["count"] for row in facets["kind"]} == {"Component": 3, "System": 1, "Location": 1}
    assert facets["spec.type"] == [
        {"value": "service", "count": 2},
        {"value": "git", "count": 1},  # the generated Location entity of the registered location
        {"value": "website", "count": 1},
    ]


def test_facets_count_only_the_entities_the_filter_matches(client, location):
    response = client.get(f"{API}/entity-facets", {"facet": "metadata.tags", "filter": "spec.owner=group:finance"})
    assert response.json() == {
        "facets": {"metadata.tags": [{"value": "finance", "count": 2}, {"value": "money", "count": 1}]}
    }


def test_facets_without_a_facet_are_a_400(client, location):
    assert_input_error(client.get(f"{API}/entity-facets"), "facet")
    assert_input_error(client.get(f"{API}/entity-facets", {"facet": "kind", "filter": ""}), "filter")


# --- refresh -----------------------------------------------------------------------------------------------


def test_refresh_reads_the_entitys_location_at_once(client, repo, location):
    repo.put({"catalog-info.yaml": CATALOG.replace("group:marketing", "group:sales")})

    response = client.post(f"{API}/refresh", {"entityRef": "component:default/campaigns"}, format="json")

    assert response.status_code == 200
    assert response.json()["updated"] == 1
    assert Entity.objects.get(ref="component:default/campaigns").spec["owner"] == "group:sales"


def test_refreshing_an_unknown_entity_is_a_404(client, location):
    for ref in ("component:default/nothing", "no-kind"):
        response = client.post(f"{API}/refresh", {"entityRef": ref}, format="json")
        assert response.status_code == 404
        assert response.json()["error"]["name"] == "NotFoundError"


def test_refresh_without_an_entity_ref_is_a_400(client, location):
    response = client.post(f"{API}/refresh", {"ref": "x"}, format="json")
    assert_input_error(response, "entityRef")


# --- validate-entity ---------------------------------------------------------------------------------------

VALID = {
    "apiVersion": "backstage.io/v1alpha1",
    "kind": "Component",
    "metadata": {"name": "ledger"},
    "spec": {"type": "service", "lifecycle": "production", "owner": "group:finance"},
}


def test_validate_entity_answers_an_empty_object_for_a_valid_entity(client, db):
    body = {"entity": VALID, "location": "url:https://git.example.com/finance/blob/main/catalog-info.yaml"}
    response = client.post(f"{API}/validate-entity", body, format="json")
    assert response.status_code == 200
    assert response.json() == {}


def test_validate_entity_answers_input_errors_naming_the_file_and_field(client, db):
    entity = {**VALID, "metadata": {"name": "somthing-"}}
    body = {"entity": entity, "location": "url:https://git.example.com/finance/blob/main/catalog-info.yaml"}

    response = client.post(f"{API}/validate-entity", body, format="json")

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["name"] == "InputError"
    assert error["message"].startswith('catalog-info.yaml: metadata.name "somthing-" is not valid')


def test_validate_entity_reports_every_broken_rule(client, db):
    entity = {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "x"}, "spec": {}}
    body = {"entity": entity, "location": "url:https://example.com/catalog/svc.yaml"}
    errors = client.post(f"{API}/validate-entity", body, format="json").json()["errors"]
    assert len(errors) >= 3
    assert all(error["message"].startswith("svc.yaml: ") for error in errors)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"location": "url:https://x/y.yaml"}, "entity"),
        ({"entity": [VALID], "location": "url:https://x/y.yaml"}, "entity"),
        ({"entity": "kind: Component", "location": "url:https://x/y.yaml"}, "entity"),
        ({"entity": VALID}, "location"),
        ({"entity": VALID, "location": "no-type"}, "location"),
        ({"entity": VALID, "location": 5}, "location"),
        ({"entity": VALID, "location": "file:/srv/catalog/svc.yaml"}, "location"),  # Backstage takes url: only
        ({"entity": VALID, "location": "git:https://x/y.git"}, "location"),
    ],
)
def test_validate_entity_with_a_malformed_request_answers_errors_the_client_shows(client, db, body, field):
    # Backstage answers every refusal of validate-entity as {"errors": [...]}: its client reads nothing else
    response = client.post(f"{API}/validate-entity", body, format="json")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["name"] == "InputError"
    assert error["message"].startswith(f"{field}: "), error


@pytest.mark.parametrize(
    "entity",
    [
        {"apiVersion": "x", "kind": None, "metadata": [], "spec": 5},
        {"apiVersion": 5, "kind": 5, "metadata": {"name": 5, "tags": "x", "labels": [], "links": [5, {"url": 5}]}},
        {**VALID, "spec": {**VALID["spec"], "dependsOn": [5, None, {}], "system": {"a": 1}}},
        {**VALID, "kind": "Location", "spec": {"targets": [5, None], "target": {}}},
    ],
)
def test_validate_entity_answers_errors_not_crashes_for_entities_of_the_wrong_shape(client, db, entity):
    body = {"entity": entity, "location": "url:https://git.example.com/x/catalog-info.yaml"}
    response = client.post(f"{API}/validate-entity", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]
    assert all(error["message"].startswith("catalog-info.yaml: ") for error in response.json()["errors"])


def test_a_relations_filter_sees_relations_that_another_entity_emitted(client, location):
    # the hasPart of the system comes from the component's spec.system, not from the system's own file
    items = query(client, filter="kind=system,relations.haspart=component:default/ledger")["items"]
    assert [item["metadata"]["name"] for item in items] == ["cashflow"]
    assert query(client, filter="relations.ownedby=group:default/finance")["totalItems"] >= 2
    assert query(client, filter="relations.haspart=component:default/nothing")["totalItems"] == 0
