"""Limits on how far one location file fans out (issue 9, item 4): targets per Location file, the depth of a
location tree and its number of locations. Over a limit, the location whose file names the targets gets an
error naming the file, the field and the limit, and keeps the child locations it had."""

import pytest

from catalog.models import Entity, Location
from catalog.services import location_refresh, location_register

COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  type: service
  lifecycle: production
  owner: group:finance
"""


def location_file(name: str, *targets: str) -> str:
    lines = ["apiVersion: backstage.io/v1alpha1", "kind: Location", "metadata:", f"  name: {name}", "spec:"]
    lines += ["  targets:", *(f"    - {target}" for target in targets)]
    return "\n".join(lines) + "\n"


def component_files(*names: str) -> dict[str, str]:
    return {f"{name}.yaml": COMPONENT.format(name=name) for name in names}


def children_of(location: Location) -> list[str]:
    return sorted(child.target.rsplit(":", 1)[1] for child in location.children.all())


def refresh(location: Location, actor) -> Location:
    location.refresh_from_db()
    location_refresh(location=location, actor=actor)
    location.refresh_from_db()
    return location


@pytest.fixture
def repo(make_repo):
    return make_repo("tree")


# --- targets per Location file -------------------------------------------------------------------------------


def test_a_location_file_naming_more_targets_than_allowed_gets_no_child_location_and_an_error(
    repo, platform_user, settings
):
    settings.CATALOG_MAX_TARGETS_PER_LOCATION = 5
    names = [f"c{index}" for index in range(6)]
    repo.put({"catalog-info.yaml": location_file("index", *(f"./{name}.yaml" for name in names)),
              **component_files(*names)})  # fmt: skip

    location = location_register(type="git", target=repo.target(), actor=platform_user).location

    assert not location.children.exists()
    assert location.errors == [
        "catalog-info.yaml: spec.targets names 6 targets; a location file may name at most 5"
        " (CATALOG_MAX_TARGETS_PER_LOCATION), so none of them was added"
    ]
    assert not Entity.objects.filter(kind="Component").exists()
    assert not Entity.objects.filter(ref="location:default/index").exists()  # never valid: not served


def test_a_file_that_goes_over_the_cap_keeps_its_child_locations_and_its_last_good_location_entity(
    repo, platform_user, settings
):
    settings.CATALOG_MAX_TARGETS_PER_LOCATION = 5
    names = [f"c{index}" for index in range(6)]
    repo.put({"catalog-info.yaml": location_file("index", "./c0.yaml", "./c1.yaml"), **component_files(*names)})
    location = location_register(type="git", target=repo.target(), actor=platform_user).location

    repo.put({"catalog-info.yaml": location_file("index", *(f"./{name}.yaml" for name in names))})
    location = refresh(location, platform_user)

    assert children_of(location) == ["c0.yaml", "c1.yaml"]
    assert "at most 5 (CATALOG_MAX_TARGETS_PER_LOCATION)" in location.errors[0]
    index = Entity.objects.get(ref="location:default/index")
    assert index.spec["targets"] == ["./c0.yaml", "./c1.yaml"] and index.has_errors
    assert "CATALOG_MAX_TARGETS_PER_LOCATION" in index.errors[0]
    assert not Entity.objects.get(ref="component:default/c1").orphan

    repo.put({"catalog-info.yaml": location_file("index", "./c0.yaml", "./c2.yaml")})
    location = refresh(location, platform_user)

    assert children_of(location) == ["c0.yaml", "c2.yaml"] and location.errors == []
    assert not Entity.objects.get(ref="location:default/index").has_errors


def test_the_cap_counts_every_location_document_of_the_file(repo, platform_user, settings):
    settings.CATALOG_MAX_TARGETS_PER_LOCATION = 3
    repo.put({"catalog-info.yaml": location_file("one", "./a.yaml", "./b.yaml") + "---\n"
              + location_file("two", "./c.yaml", "./d.yaml"), **component_files("a", "b", "c", "d")})  # fmt: skip

    location = location_register(type="git", target=repo.target(), actor=platform_user).location

    assert not location.children.exists()
    assert location.errors == [
        "catalog-info.yaml (document 2): spec.targets names 4 targets; a location file may name at most 3"
        " (CATALOG_MAX_TARGETS_PER_LOCATION), so none of them was added"
    ]


def test_a_file_of_20000_targets_adds_no_child_location_at_the_default_cap(repo, platform_user):
    targets = [f"./c{index:05}.yaml" for index in range(20_000)]  # about 400 KB
    repo.put({"catalog-info.yaml": location_file("everything", *targets)})

    location = location_register(type="git", target=repo.target(), actor=platform_user).location

    assert Location.objects.count() == 1
    assert "spec.targets names 20000 targets; a location file may name at most 1000" in location.errors[0]


# --- depth ---------------------------------------------------------------------------------------------------


def test_a_chain_of_location_files_stops_at_the_depth_limit_with_an_error_on_the_deepest_allowed(
    repo, platform_user, settings
):
    settings.CATALOG_MAX_LOCATION_DEPTH = 2
    repo.put(
        {
            "catalog-info.yaml": location_file("level0", "./level1.yaml"),
            "level1.yaml": location_file("level1", "./level2.yaml"),
            "level2.yaml": location_file("level2", "./level3.yaml", "./c.yaml"),
            "level3.yaml": location_file("level3", "./d.yaml"),
            **component_files("c", "d"),
        }
    )

    root = location_register(type="git", target=repo.target(), actor=platform_user).location

    level1 = root.children.get()
    level2 = level1.children.get()
    assert not level2.children.exists()
    assert level2.errors == [
        "level2.yaml: spec.targets would add locations 3 levels below the registered location; a location tree"
        " may be at most 2 levels deep (CATALOG_MAX_LOCATION_DEPTH), so none of them was added"
    ]
    assert root.errors == [] and level1.errors == []
    assert not Entity.objects.filter(ref="location:default/level2").exists()


# --- tree size -----------------------------------------------------------------------------------------------


def test_a_tree_stops_growing_at_its_size_limit_with_an_error_on_the_location_that_would_grow_it(
    repo, platform_user, settings
):
    settings.CATALOG_MAX_LOCATIONS_PER_TREE = 5
    repo.put(
        {
            "catalog-info.yaml": location_file("root", "./a.yaml", "./b.yaml"),
            "a.yaml": location_file("a", "./a1.yaml", "./a2.yaml"),
            "b.yaml": location_file("b", "./b1.yaml"),
            **component_files("a1", "a2", "b1"),
        }
    )

    root = location_register(type="git", target=repo.target(), actor=platform_user).location

    a, b = root.children.order_by("pk")
    assert children_of(a) == ["a1.yaml", "a2.yaml"] and a.errors == []
    assert not b.children.exists()
    assert b.errors == [
        "b.yaml: spec.targets would make this location tree 6 locations; a tree may hold at most 5"
        " (CATALOG_MAX_LOCATIONS_PER_TREE), so none of them was added"
    ]
    assert Location.objects.count() == 5

    # swapping a target for another does not grow the tree
    repo.put({"a.yaml": location_file("a", "./a1.yaml", "./b1.yaml")})
    Location.objects.filter(pk=a.pk).update(next_refresh_at=a.next_refresh_at.replace(year=2000))
    refresh(root, platform_user)
    assert children_of(a) == ["a1.yaml", "b1.yaml"] and Location.objects.get(pk=a.pk).errors == []


# --- listing -------------------------------------------------------------------------------------------------


@pytest.fixture
def tree(repo, platform_user):
    """A registered location whose file names two child locations."""
    repo.put({"catalog-info.yaml": location_file("index", "./a.yaml", "./b.yaml"), **component_files("a", "b")})
    return location_register(type="git", target=repo.target(), actor=platform_user).location


def test_the_api_lists_registered_locations_only_as_backstage(api_client, carol, tree):
    api_client.force_login(carol)

    listed = api_client.get("/api/catalog/locations").json()

    assert [item["data"]["id"] for item in listed] == [str(tree.pk)]
    assert api_client.get("/api/catalog/locations", {"root": "false"}).json() == []
    # a child location is still read by id, and its Location entity is in the catalog
    child = tree.children.first()
    assert api_client.get(f"/api/catalog/locations/{child.pk}").json()["id"] == str(child.pk)
    assert Entity.objects.filter(ref="location:default/index").exists()


def test_the_locations_page_shows_registered_locations_unless_asked_for_children(client, carol, tree):
    client.force_login(carol)

    def targets(query: str = "") -> list[str]:
        return [location.target for location in client.get(f"/catalog/locations/{query}").context["page"]]

    children = sorted(child.target for child in tree.children.all())
    assert targets() == [tree.target]
    assert targets("?root=false") == children
    assert targets("?root=") == [tree.target, *children]  # "Any"
    page = client.get("/catalog/locations/").content.decode()
    assert '<option value="true" selected>Registered</option>' in page
