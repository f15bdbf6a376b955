"""Tests for the plain reads of catalog.selectors that other apps use (by ref, by kind, locations' errors): which
entities each one leaves out (orphans, untrusted locations, other kinds), on rows made directly."""

import pytest
from django.utils import timezone

from catalog import selectors
from catalog.models import Entity, Location, Relation

pytestmark = pytest.mark.django_db


def location(target: str = "https://example.com/catalog-info.yaml", **fields) -> Location:
    return Location.objects.create(type="url", target=target, next_refresh_at=timezone.now(), **fields)


def entity(kind: str, name: str, *, at: Location | None = None, title: str = "", **fields) -> Entity:
    metadata = {"name": name, **({"title": title} if title else {})}
    return Entity.objects.create(
        kind=kind,
        namespace="default",
        name=name,
        ref=f"{kind}:default/{name}".lower(),
        document={"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": metadata, "spec": {}},
        result_hash="x",
        location=at,
        **fields,
    )


def test_entity_get_leaves_out_orphans_unless_asked_and_with_located_those_without_a_location():
    home = location()
    live = entity("Component", "live", at=home)
    orphan = entity("Component", "orphan", at=home, orphan=True)
    adrift = entity("Component", "adrift", orphan=True)

    assert selectors.entity_get(ref=live.ref) == live
    assert selectors.entity_get(ref=live.ref).location == home
    assert selectors.entity_get(ref=orphan.ref) is None
    assert selectors.entity_get(ref=orphan.ref, include_orphans=True) == orphan
    assert selectors.entity_get(ref=adrift.ref, include_orphans=True) == adrift
    assert selectors.entity_get(ref=adrift.ref, include_orphans=True, located=True) is None
    assert selectors.entity_get(ref="component:default/nothing") is None


def test_entity_exists_counts_an_orphan_only_when_asked():
    live = entity("Domain", "finance")
    orphan = entity("Domain", "marketing", orphan=True)

    assert selectors.entity_exists(ref=live.ref)
    assert not selectors.entity_exists(ref=orphan.ref)
    assert selectors.entity_exists(ref=orphan.ref, include_orphans=True)
    assert not selectors.entity_exists(ref="domain:default/nothing", include_orphans=True)


def test_entity_orphan_get_answers_only_an_orphan():
    live = entity("Component", "live")
    orphan = entity("Component", "orphan", orphan=True)

    assert selectors.entity_orphan_get(pk=live.pk) is None
    assert selectors.entity_orphan_get(pk=orphan.pk) == orphan


def test_entities_in_folder_besides_counts_the_other_entities_read_under_the_folder():
    prefix = "https://example.com/repo/components/a/"
    first = entity("Component", "first", source_target=f"{prefix}catalog-info.yaml")
    entity("Component", "elsewhere", source_target="https://example.com/repo/components/ab/catalog-info.yaml")

    assert not selectors.entities_in_folder_besides(entity=first, prefix=prefix)
    entity("Resource", "second", source_target=f"{prefix}more/catalog-info.yaml")
    assert selectors.entities_in_folder_besides(entity=first, prefix=prefix)


def test_entity_titles_by_ref_none_without_a_title_leaving_out_refs_of_nothing():
    titled = entity("Group", "finance", title="Finance team")
    plain = entity("Group", "marketing")

    titles = selectors.entity_titles(refs={titled.ref, plain.ref, "group:default/nothing"})

    assert titles == {titled.ref: "Finance team", plain.ref: None}


def test_entities_by_kind_compares_the_kind_case_insensitively_and_filters_orphans_and_untrusted_locations():
    trusted, untrusted = location(trusted=True), location("https://example.com/other.yaml")
    kept = entity("Template", "kept", at=trusted)
    untrusted_one = entity("template", "untrusted", at=untrusted)
    orphan = entity("Template", "orphan", at=trusted, orphan=True)
    entity("Component", "other", at=trusted)

    assert set(selectors.entities_by_kind(kind="TEMPLATE")) == {kept, untrusted_one}
    assert set(selectors.entities_by_kind(kind="template", include_orphans=True)) == {kept, untrusted_one, orphan}
    assert list(selectors.entities_by_kind(kind="template", trusted_only=True)) == [kept]


def test_entity_list_filters_by_kinds_and_refs_leaving_out_orphans_unless_asked():
    domain = entity("Domain", "finance")
    group = entity("Group", "finance")
    component = entity("Component", "ledger")
    orphan = entity("Domain", "gone", orphan=True)

    assert set(selectors.entity_list()) == {domain, group, component}
    assert set(selectors.entity_list(kinds=["domain", "GROUP"])) == {domain, group}
    assert set(selectors.entity_list(kinds=[])) == {domain, group, component}
    assert set(selectors.entity_list(refs=[domain.ref, orphan.ref])) == {domain}
    assert set(selectors.entity_list(refs=[domain.ref, orphan.ref], include_orphans=True)) == {domain, orphan}


def test_data_product_entities_are_the_systems_and_their_component_parts_by_id():
    system = entity("System", "finance.payments.0")
    part = entity("Component", "finance.payments.0.ledger")
    api = entity("API", "finance.payments.0.api")
    entity("Component", "unrelated")
    for target in (part, api):
        Relation.objects.create(originating=target, source_ref=system.ref, type="hasPart", target_ref=target.ref)

    assert selectors.data_product_entities(system_keys=[system.ref]) == [system, part]


def test_location_child_errors_lists_the_errors_of_the_failing_children_only():
    root = location()
    location("https://example.com/a.yaml", parent=root, errors=["a.yaml: could not be fetched"])
    location("https://example.com/b.yaml", parent=root)
    location("https://example.com/c.yaml", errors=["not a child"])

    assert list(selectors.location_child_errors(location=root)) == [["a.yaml: could not be fetched"]]


def test_location_get_reads_the_location_afresh():
    stale = location()
    Location.objects.filter(pk=stale.pk).update(errors=["new"])

    assert selectors.location_get(pk=stale.pk).errors == ["new"]
    with pytest.raises(Location.DoesNotExist):
        selectors.location_get(pk=stale.pk + 1000)
