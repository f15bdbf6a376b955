"""The catalog's pages through the Django test client, on entities read from real local Git repositories."""

from __future__ import annotations

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import Entity, Location
from catalog.services import location_register
from core.testing.git import GitRepo

HTMX = {"HTTP_HX_REQUEST": "true"}


def document(kind: str, name: str, spec: dict, **metadata) -> dict:
    return {"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": {"name": name, **metadata}, "spec": spec}


def component(name: str, *, owner: str = "group:finance", type: str = "service", **metadata) -> dict:
    return document("Component", name, {"type": type, "lifecycle": "production", "owner": owner}, **metadata)


def yaml_file(*documents: dict) -> str:
    return "---\n".join(yaml.safe_dump(doc, sort_keys=False) for doc in documents)


FINANCE = [
    document("Group", "finance", {"type": "team", "children": []}, title="Finance team"),
    document("System", "cashflow", {"owner": "group:finance"}, title="Cash flow", tags=["finance"]),
    {
        **component(
            "ledger",
            type="database",
            title="General ledger",
            description="Every booking of the company",
            tags=["finance", "gold"],
            links=[
                {"url": "https://wiki.example.com/ledger", "title": "Ledger wiki"},
                {"url": "ssh://git.example.com/ledger.git", "title": "Clone over SSH"},
            ],
        ),
    },
]
FINANCE[2]["spec"] |= {"system": "system:cashflow", "dependsOn": ["resource:default/warehouse"]}


@pytest.fixture(autouse=True)
def mirrors(settings, tmp_path):
    settings.CATALOG_MIRROR_DIR = tmp_path / "mirrors"


@pytest.fixture
def make_git(tmp_path):
    return lambda name="finance": GitRepo(tmp_path / "git", name, "main")


@pytest.fixture
def finance(make_git, platform_user):
    """The finance repository registered (trusted, so that its Group counts) by the platform team."""
    repo = make_git("finance")
    repo.put({"catalog-info.yaml": yaml_file(*FINANCE)})
    repo.location = location_register(type="git", target=repo.target(), actor=platform_user, trusted=True).location
    return repo


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def entity_url(kind: str, name: str, namespace: str = "default") -> str:
    return reverse("catalog:entity_detail", kwargs={"kind": kind, "namespace": namespace, "name": name})


def refresh_url(kind: str, name: str, namespace: str = "default") -> str:
    return reverse("catalog:entity_refresh", kwargs={"kind": kind, "namespace": namespace, "name": name})


def listed_names(response) -> list[str]:
    return sorted(entity.name for entity in response.context["page"].object_list)


# --- Entity list ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["catalog:home", "catalog:location_list", "catalog:location_register"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, db, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_catalog_lists_each_entity_with_kind_name_title_owner_type_and_a_link(signed_in, finance):
    response = signed_in.get(reverse("catalog:home"))

    assert response.status_code == 200
    assert listed_names(response) == ["cashflow", "finance", "ledger"]  # its Location entity: under "All kinds"
    content = response.content.decode()
    assert f'href="{entity_url("component", "ledger")}"' in content
    assert "General ledger" in content and "group:finance" in content and "database" in content
    assert 'aria-current="page">Entities</a>' in content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=component", ["ledger"]),
        ("kind=SYSTEM", ["cashflow"]),
        ("type=database", ["ledger"]),
        ("namespace=nowhere", []),
        ("owner=group:default/finance", ["cashflow", "ledger"]),
        ("tag=gold", ["ledger"]),
        ("q=ledg", ["ledger"]),
        ("q=general+led", ["ledger"]),
        ("kind=component&tag=finance", ["ledger"]),
    ],
)
def test_the_filters_narrow_the_list(signed_in, finance, query, expected):
    response = signed_in.get(f"{reverse('catalog:home')}?{query}")
    assert listed_names(response) == expected


def test_the_has_errors_and_orphan_filters_find_broken_and_abandoned_entities(signed_in, finance, platform_user):
    Entity.objects.filter(name="ledger").update(has_errors=True, errors=["catalog-info.yaml: broken"])
    Entity.objects.filter(name="cashflow").update(orphan=True, orphaned_at=timezone.now())

    errors = signed_in.get(reverse("catalog:home") + "?has_errors=true")
    orphans = signed_in.get(reverse("catalog:home") + "?orphan=true")
    healthy = signed_in.get(reverse("catalog:home") + "?has_errors=false&orphan=false&kind=component")

    assert listed_names(errors) == ["ledger"]
    assert '<span class="badge badge-error">error</span>' in errors.content.decode()
    assert listed_names(orphans) == ["cashflow"]
    assert '<span class="badge badge-orphan">orphan</span>' in orphans.content.decode()
    assert listed_names(healthy) == []


def test_typing_in_the_search_box_gets_only_the_results_fragment_of_the_same_url(signed_in, finance):
    page = signed_in.get(reverse("catalog:home"))
    assert 'hx-trigger="keyup changed delay:300ms, search"' in page.content.decode()
    assert 'hx-push-url="true"' in page.content.decode()

    response = signed_in.get(reverse("catalog:home") + "?q=ledger", **HTMX)

    content = response.content.decode()
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    assert '<div id="entity-results">' in content and "<h1>" not in content and "<html" not in content
    assert 'id="entity-count"' in content and 'hx-swap-oob="innerHTML"' in content
    assert "1 entity" in content
    assert listed_names(response) == ["ledger"]


def test_kind_and_type_options_show_how_many_entities_each_has(signed_in, finance):
    content = signed_in.get(reverse("catalog:home") + "?kind=component").content.decode()

    assert '<option value="component" selected>Component (1)</option>' in content
    assert '<option value="system">System (1)</option>' in content
    assert '<option value="database">database (1)</option>' in content


def test_the_list_shows_fifty_entities_a_page(signed_in, make_git, platform_user):
    repo = make_git("many")
    repo.put({"catalog-info.yaml": yaml_file(*[component(f"c{index:03}") for index in range(55)])})
    location_register(type="git", target=repo.target(), actor=platform_user)

    first = signed_in.get(reverse("catalog:home") + "?kind=component")
    second = signed_in.get(reverse("catalog:home") + "?kind=component&page=2")

    assert len(first.context["page"].object_list) == 50
    assert listed_names(second) == [f"c{index:03}" for index in range(50, 55)]
    assert 'href="?kind=component&amp;page=2"' in first.content.decode()


def test_the_list_costs_the_same_number_of_queries_for_3_and_30_entities(signed_in, make_git, platform_user):
    def queries_for(count: int) -> int:
        Location.objects.all().delete()
        Entity.objects.all().delete()
        repo = make_git(f"repo{count}")
        repo.put({"catalog-info.yaml": yaml_file(*[component(f"c{index}", tags=["x"]) for index in range(count)])})
        location_register(type="git", target=repo.target(), actor=platform_user)
        Entity.objects.filter(name="c1").update(has_errors=True, orphan=True)
        with CaptureQueriesContext(connection) as queries:
            response = signed_in.get(reverse("catalog:home"))
        assert len(response.context["page"].object_list) == count  # its Location entity is under "All kinds"
        return len(queries)

    assert queries_for(3) == queries_for(30)


# --- Entity page ---------------------------------------------------------------------------------------------


def test_the_entity_page_shows_what_the_entity_is_and_where_it_comes_from(signed_in, finance):
    response = signed_in.get(entity_url("component", "ledger"))

    content = response.content.decode()
    assert response.status_code == 200
    assert "General ledger" in content and "Every booking of the company" in content
    assert '<a href="https://wiki.example.com/ledger" rel="noopener noreferrer">Ledger wiki</a>' in content
    assert 'href="ssh:' not in content and "ssh://git.example.com/ledger.git" in content  # text, not a link
    assert f'<a href="{entity_url("group", "finance")}">group:finance</a>' in content
    assert f'<a href="{entity_url("system", "cashflow")}">system:default/cashflow</a>' in content
    assert "resource:default/warehouse <span" in content  # dangling: shown as text, not a link
    assert f'href="{entity_url("resource", "warehouse")}"' not in content
    assert ">gold</a>" in content
    # the YAML as written in the file, not the processed document (which would add namespace: default)
    assert "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ledger\n  title:" in content
    assert finance.location.target in content
    assert Entity.objects.get(name="ledger").source_revision in content
    assert "Refresh</button>" in content


def test_the_entity_page_shows_errors_in_red_and_says_when_an_entity_is_an_orphan(signed_in, finance):
    Entity.objects.filter(name="ledger").update(
        has_errors=True,
        orphan=True,
        errors=['catalog-info.yaml: metadata.name "ledger-" is not valid'],
        dp_errors=["the major of the component differs from its data product's"],
    )

    content = signed_in.get(entity_url("component", "ledger")).content.decode()

    assert '<span class="badge badge-error">error</span>' in content
    assert 'class="card card-error"' in content
    assert "metadata.name &quot;ledger-&quot; is not valid" in content
    assert "differs from its data product" in content
    assert "This entity is an orphan" in content


def test_an_unknown_entity_is_not_found(signed_in, finance):
    response = signed_in.get(entity_url("component", "nothing"))
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_the_entity_page_costs_the_same_number_of_queries_whatever_its_relations(signed_in, make_git, platform_user):
    def queries_for(count: int) -> int:
        Location.objects.all().delete()
        Entity.objects.all().delete()
        repo = make_git(f"repo{count}")
        main = component("main")
        main["spec"]["dependsOn"] = [f"component:c{index}" for index in range(count)]
        repo.put({"catalog-info.yaml": yaml_file(main, *[component(f"c{index}") for index in range(count)])})
        location_register(type="git", target=repo.target(), actor=platform_user)
        with CaptureQueriesContext(connection) as queries:
            content = signed_in.get(entity_url("component", "main")).content.decode()
        assert content.count(f'href="{entity_url("component", "c0")[:-2]}') == count
        return len(queries)

    assert queries_for(2) == queries_for(20)


def test_refresh_through_htmx_rereads_git_and_returns_the_detail_fragment(signed_in, finance):
    broken = yaml_file(*FINANCE[:2], component("ledger", title="General ledger")) + "  bad: [unclosed\n"
    finance.put({"catalog-info.yaml": broken})

    response = signed_in.post(refresh_url("component", "ledger"), **HTMX)

    content = response.content.decode()
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    assert content.lstrip().startswith('<article id="entity-detail"') and "<html" not in content
    assert "Refreshed from its location" in content
    assert '<span class="badge badge-error">error</span>' in content
    assert Entity.objects.get(name="ledger").has_errors


def test_refresh_without_htmx_redirects_back_to_the_entity_page(signed_in, finance):
    finance.put({"catalog-info.yaml": yaml_file(*FINANCE[:2], component("ledger", title="Renamed ledger"))})

    response = signed_in.post(refresh_url("component", "ledger"))

    assert response.status_code == 302 and response["Location"] == entity_url("component", "ledger")
    assert Entity.objects.get(name="ledger").title == "Renamed ledger"
    assert "Refreshed component:default/ledger" in signed_in.get(response["Location"]).content.decode()


def test_refresh_needs_a_post(signed_in, finance):
    assert signed_in.get(refresh_url("component", "ledger")).status_code == 405


# --- Landing page errors -------------------------------------------------------------------------------------


def test_the_landing_page_counts_entities_with_errors_and_lists_location_errors_for_staff(
    client, platform_user, finance, make_git
):
    Entity.objects.filter(name="ledger").update(has_errors=True)
    Location.objects.filter(pk=finance.location.pk).update(errors=["catalog-info.yaml: could not be parsed"])
    client.force_login(platform_user)

    content = client.get(reverse("catalog:home")).content.decode()

    assert '<a href="/catalog/?has_errors=true">' in content and "1 entity with errors" in content
    assert "1 location with errors" in content
    assert "catalog-info.yaml: could not be parsed" in content


def test_the_landing_page_tells_staff_when_there_are_no_errors(client, platform_user, finance):
    client.force_login(platform_user)
    assert "No errors." in client.get(reverse("catalog:home")).content.decode()


def test_a_consumer_sees_no_error_panel_for_locations_they_cannot_fix(client, carol, finance):
    Entity.objects.filter(name="ledger").update(has_errors=True)
    Location.objects.filter(pk=finance.location.pk).update(errors=["catalog-info.yaml: could not be parsed"])
    client.force_login(carol)

    content = client.get(reverse("catalog:home")).content.decode()

    assert "Processing errors" not in content and "could not be parsed" not in content


def test_whoever_registered_a_failing_location_sees_its_errors_and_no_one_elses(
    client, alice, platform_user, finance, make_git
):
    repo = make_git("alices")
    repo.put({"catalog-info.yaml": yaml_file(component("notes", owner="group:finance"))})
    # Only staff may register file:// targets: register it, then make alice its registrant.
    mine = location_register(type="git", target=repo.target(), actor=platform_user).location
    Location.objects.filter(pk=mine.pk).update(registered_by=alice, errors=["catalog-info.yaml: mine is broken"])
    Location.objects.filter(pk=finance.location.pk).update(errors=["catalog-info.yaml: theirs is broken"])
    client.force_login(alice)

    content = client.get(reverse("catalog:home")).content.decode()

    assert "Processing errors" in content and "1 location with errors" in content
    assert "mine is broken" in content and "theirs is broken" not in content


def test_the_team_owning_a_data_products_repository_sees_its_errors(client, bob, carol, platform_user, make_git):
    repo = make_git("marketing")
    repo.put({"catalog-info.yaml": yaml_file(document("System", "campaigns", {"owner": "group:marketing"}))})
    location = location_register(type="git", target=repo.target(), actor=platform_user, trusted=True).location
    Location.objects.filter(pk=location.pk).update(
        errors=["catalog-info.yaml: could not be parsed"], home_of=["system:default/campaigns"]
    )

    client.force_login(bob)
    assert "could not be parsed" in client.get(reverse("catalog:home")).content.decode()
    client.force_login(carol)
    assert "could not be parsed" not in client.get(reverse("catalog:home")).content.decode()


# --- Default kinds and the data product link ----------------------------------------------------------------


def test_the_entity_list_opens_on_the_kinds_people_browse_with_the_others_one_pick_away(signed_in, finance):
    # Registering the location also made its Location entity: plumbing, not what people come to browse.
    assert Entity.objects.filter(kind="Location").exists()

    opened = listed_names(signed_in.get(reverse("catalog:home")))
    every = listed_names(signed_in.get(reverse("catalog:home"), {"kind": "all"}))
    locations = signed_in.get(reverse("catalog:home"), {"kind": "Location"}).context["page"].object_list

    assert opened == ["cashflow", "finance", "ledger"]
    assert set(every) > set(opened) and {entity.kind for entity in locations} == {"Location"}
    content = signed_in.get(reverse("catalog:home")).content.decode()
    assert '<option value="all">All kinds, Location and Template too</option>' in content


DATA_PRODUCT_SPEC = {
    "type": "dataproduct",
    "owner": "group:finance",
    "domain": "domain:finance",
    "mesh": {"id": "urn:dmb:dp:finance:cashflow:0", "kind": "dataproduct", "domain": "finance", "version": "0.1.0"},
}


def test_a_data_products_system_links_to_its_builder_page_and_other_systems_do_not(signed_in, make_git, platform_user):
    repo = make_git("products")
    repo.put(
        {
            "catalog-info.yaml": yaml_file(
                document("System", "finance.cashflow.0", DATA_PRODUCT_SPEC),
                document("System", "billing", {"owner": "group:finance"}),
            )
        }
    )
    location_register(type="git", target=repo.target(), actor=platform_user)

    product = signed_in.get(entity_url("system", "finance.cashflow.0")).content.decode()
    other = signed_in.get(entity_url("system", "billing")).content.decode()

    assert 'href="/dp/finance.cashflow.0/"' in product
    assert "/dp/" not in other


# --- Register --------------------------------------------------------------------------------------------------


def test_analyze_previews_the_entities_and_import_registers_the_location(client, platform_user, make_git):
    repo = make_git("sales")
    repo.put({"catalog-info.yaml": yaml_file(component("orders", owner="group:sales", title="Orders"))})
    client.force_login(platform_user)

    preview = client.post(reverse("catalog:location_register"), {"type": "git", "target": repo.target()})

    content = preview.content.decode()
    assert preview.status_code == 200
    assert "Importing would add 1 entity" in content and "orders" in content and "Orders" in content
    assert '<input type="hidden" name="confirm" value="1">' in content
    assert not Location.objects.exists() and not Entity.objects.exists()

    response = client.post(
        reverse("catalog:location_register"), {"type": "git", "target": repo.target(), "confirm": "1"}
    )

    assert response.status_code == 302 and response["Location"] == reverse("catalog:location_list")
    location = Location.objects.get()
    assert (location.type, location.target, location.registered_by) == ("git", f"{repo.url}#main", platform_user)
    assert Entity.objects.filter(ref="component:default/orders").exists()
    listing = client.get(response["Location"]).content.decode()
    assert f"Registered git:{repo.url}#main: 1 entity added." in listing


def test_the_preview_shows_the_errors_the_import_would_record(client, platform_user, make_git):
    repo = make_git("broken")
    repo.put({"catalog-info.yaml": yaml_file(component("orders-"))})
    client.force_login(platform_user)

    content = client.post(reverse("catalog:location_register"), {"type": "git", "target": repo.target()}).content

    assert b"Importing would add 0 entities and record 1 error" in content
    assert b"metadata.name" in content
    assert not Location.objects.exists()


def test_a_bad_target_is_explained_next_to_the_field_and_changes_nothing(client, platform_user):
    client.force_login(platform_user)

    response = client.post(reverse("catalog:location_register"), {"type": "git", "target": "not a url"})

    assert response.status_code == 400
    assert response.context["form"].errors["target"]
    content = response.content.decode()
    assert 'class="field field-invalid"' in content and 'class="field-errors"' in content
    assert "Preview" not in content
    assert not Location.objects.exists()


def test_an_empty_target_is_required(client, platform_user):
    client.force_login(platform_user)
    response = client.post(reverse("catalog:location_register"), {"type": "git", "target": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["target"] == ["This field is required."]


def test_bob_may_not_register_a_file_location_and_is_told_the_rule(client, bob):
    client.force_login(bob)

    response = client.post(reverse("catalog:location_register"), {"type": "file", "target": "/srv/catalog/x.yaml"})

    assert response.status_code == 403
    assert response.context["form"].errors["target"] == ["only staff may register file locations"]
    assert "only staff may register file locations" in response.content.decode()
    assert not Location.objects.exists()


def test_bob_may_not_import_a_local_git_repository_either(client, bob, make_git):
    repo = make_git("local")
    repo.put({"catalog-info.yaml": yaml_file(component("orders"))})
    client.force_login(bob)

    response = client.post(
        reverse("catalog:location_register"), {"type": "git", "target": repo.target(), "confirm": "1"}
    )

    assert response.status_code == 403
    assert "file://" in response.context["form"].errors["target"][0]
    assert not Location.objects.exists()


def test_registering_a_location_twice_is_refused_next_to_the_target(client, platform_user, finance):
    client.force_login(platform_user)

    response = client.post(reverse("catalog:location_register"), {"type": "git", "target": finance.target()})

    assert response.status_code == 409
    assert "already registered" in response.context["form"].errors["target"][0]
    assert Location.objects.filter(parent=None).count() == 1


def test_only_staff_see_and_may_set_the_trusted_checkbox(client, platform_user, alice, make_git):
    client.force_login(alice)
    assert 'name="trusted"' not in client.get(reverse("catalog:location_register")).content.decode()

    repo = make_git("trusted")
    repo.put({"catalog-info.yaml": yaml_file(component("orders"))})
    client.force_login(platform_user)
    assert 'name="trusted"' in client.get(reverse("catalog:location_register")).content.decode()
    preview = client.post(
        reverse("catalog:location_register"), {"type": "git", "target": repo.target(), "trusted": "on"}
    )
    assert '<input type="hidden" name="trusted" value="on">' in preview.content.decode()
    client.post(
        reverse("catalog:location_register"),
        {"type": "git", "target": repo.target(), "trusted": "on", "confirm": "1"},
    )
    assert Location.objects.get().trusted


def test_the_register_page_explains_the_git_target_syntax(signed_in):
    content = signed_in.get(reverse("catalog:location_register")).content.decode()
    assert "&lt;repository URL&gt;[#&lt;branch&gt;][:&lt;path&gt;]" in content
    assert '<option value="git" selected>Git</option>' in content


# --- Locations -------------------------------------------------------------------------------------------------


def alice_location() -> Location:
    """A location alice registered (she may not register file:// Git herself, so it is made directly)."""
    from django.contrib.auth import get_user_model

    return Location.objects.create(
        type="url",
        target="https://git.example.com/alice/catalog-info.yaml",
        registered_by=get_user_model().objects.get(username="alice"),
        next_refresh_at=timezone.now(),
        errors=["catalog-info.yaml: could not be fetched"],
    )


def test_the_location_list_shows_each_location_with_its_state(signed_in, finance):
    location = alice_location()

    response = signed_in.get(reverse("catalog:location_list"))

    content = response.content.decode()
    assert response.status_code == 200
    assert finance.location.target in content and location.target in content
    assert "Registered by platform" in content and "Registered by alice" in content and "Trusted" in content
    assert "catalog-info.yaml: could not be fetched" in content
    assert content.count("Refresh<span") == 2
    # alice may unregister her own location only; she is not staff, so she may not trust any
    assert content.count("Unregister<span") == 1
    assert "Trust<span" not in content and "Untrust<span" not in content


def test_the_location_list_filters_by_type_errors_and_target(signed_in, finance):
    alice_location()

    def targets(query: str) -> list[str]:
        return [loc.target for loc in signed_in.get(f"{reverse('catalog:location_list')}?{query}").context["page"]]

    assert targets("type=url") == ["https://git.example.com/alice/catalog-info.yaml"]
    assert targets("has_errors=false") == [finance.location.target]
    assert targets("target=FINANCE") == [finance.location.target]
    assert targets("trusted=true&root=true") == [finance.location.target]


def test_the_location_list_costs_the_same_number_of_queries_for_3_and_30_locations(signed_in, alice):
    def queries_for(count: int) -> int:
        Location.objects.all().delete()
        parent = Location.objects.create(type="url", target="https://x.example.com/root.yaml", registered_by=alice,
                                         next_refresh_at=timezone.now())  # fmt: skip
        for index in range(count - 1):
            Location.objects.create(type="url", target=f"https://x.example.com/{index}.yaml", parent=parent,
                                    next_refresh_at=timezone.now(), errors=["e"])  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            response = signed_in.get(reverse("catalog:location_list"), {"root": ""})  # registered or child
        assert len(response.context["page"].object_list) == count
        return len(queries)

    assert queries_for(3) == queries_for(30)


def test_refreshing_a_location_through_htmx_returns_its_row_and_the_message(signed_in, finance):
    finance.put({"catalog-info.yaml": yaml_file(*FINANCE, component("extra"))})
    url = reverse("catalog:location_refresh", args=[finance.location.pk])

    response = signed_in.post(url, **HTMX)

    content = response.content.decode()
    assert response.status_code == 200 and "HX-Request" in response["Vary"]
    assert content.lstrip().startswith(f'<tr id="location-{finance.location.pk}">')
    assert '<div id="messages" class="messages" aria-live="polite" hx-swap-oob="true">' in content
    assert "1 added" in content
    assert Entity.objects.filter(name="extra").exists()


def test_refreshing_a_location_without_htmx_redirects_to_the_list(signed_in, finance):
    response = signed_in.post(reverse("catalog:location_refresh", args=[finance.location.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("catalog:location_list")


def test_only_staff_may_trust_or_untrust_a_location(client, alice, platform_user, finance):
    url = reverse("catalog:location_trust", args=[finance.location.pk])
    client.force_login(alice)
    assert client.post(url, {"trusted": "false"}).status_code == 403
    finance.location.refresh_from_db()
    assert finance.location.trusted

    client.force_login(platform_user)
    listing = client.get(reverse("catalog:location_list")).content.decode()
    assert "Untrust<span" in listing
    response = client.post(url, {"trusted": "false"}, **HTMX)

    assert response.status_code == 200 and "Trust<span" in response.content.decode()
    finance.location.refresh_from_db()
    assert not finance.location.trusted


def test_unregistering_asks_for_confirmation_then_removes_the_location_and_its_entities(client, platform_user, finance):
    client.force_login(platform_user)
    url = reverse("catalog:location_unregister", args=[finance.location.pk])

    confirm = client.get(url)

    assert confirm.status_code == 200
    assert "Unregister this location?" in confirm.content.decode()
    assert "the 4 entities they emitted will be removed" in confirm.content.decode()
    assert Location.objects.exists()

    response = client.post(url)

    assert response.status_code == 302 and response["Location"] == reverse("catalog:location_list")
    assert not Location.objects.exists() and not Entity.objects.exists()


def test_another_user_may_not_unregister_a_location(client, bob, finance):
    client.force_login(bob)
    url = reverse("catalog:location_unregister", args=[finance.location.pk])

    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert Location.objects.filter(pk=finance.location.pk).exists()


def test_whoever_registered_a_location_may_unregister_it(client, alice):
    location = alice_location()
    client.force_login(alice)

    response = client.post(reverse("catalog:location_unregister", args=[location.pk]))

    assert response.status_code == 302
    assert not Location.objects.exists()


def test_a_child_location_is_unregistered_through_its_parent(client, platform_user, make_git):
    repo = make_git("tree")
    tree = document("Location", "tree", {"targets": ["./a.yaml"]})
    repo.put({"catalog-info.yaml": yaml_file(tree), "a.yaml": yaml_file(component("alpha"))})
    location_register(type="git", target=repo.target(), actor=platform_user)
    child = Location.objects.get(parent__isnull=False)
    client.force_login(platform_user)

    response = client.post(reverse("catalog:location_unregister", args=[child.pk]))

    assert response.status_code == 409
    assert "unregister that one" in response.content.decode()
    assert Location.objects.filter(pk=child.pk).exists()


def test_the_catalog_sub_pages_link_to_each_other(signed_in):
    for url_name, current in [
        ("catalog:home", "Entities"),
        ("catalog:location_list", "Locations"),
        ("catalog:location_register", "Register existing entity"),
    ]:
        content = signed_in.get(reverse(url_name)).content.decode()
        assert '<nav class="subnav" aria-label="Catalog sections">' in content
        assert f'aria-current="page">{current}</a>' in content
        assert content.count('aria-current="page"') == 2  # the header's Catalog and this sub-page


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + level)}: &{chr(98 + level)} [{', '.join(['*' + chr(97 + level)] * 9)}]\n" for level in range(8)
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BILLION_LAUGHS, "nodes"),
        ("a: " + "x" * (2 * 1024 * 1024) + "\n", "over the limit of 1048576 bytes"),
        ("apiVersion: v1\nkind: Component\nkind: System\n", "duplicate"),
    ],
    ids=["alias bomb", "2 MiB file", "duplicate keys"],
)
def test_the_register_preview_refuses_hostile_yaml_with_a_clear_error(client, platform_user, make_git, text, message):
    repo = make_git("hostile")
    repo.put({"catalog-info.yaml": text})
    client.force_login(platform_user)

    preview = client.post(reverse("catalog:location_register"), {"type": "git", "target": repo.target()})

    assert preview.status_code == 200
    assert message in preview.content.decode()
    assert not Location.objects.exists() and not Entity.objects.exists()
