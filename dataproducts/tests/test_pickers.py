"""The pickers' choices (``dataproducts.scaffold.pickers``): a user's teams (staff: every group), entities of the
allowed kinds, the domains, and the other components of a data product; and the membership test behind each."""

from __future__ import annotations

import pytest

from catalog.models import Entity, Location
from catalog.services import location_register
from dataproducts import selectors
from dataproducts.scaffold import pickers
from dataproducts.scaffold.pickers import PickerContext
from dataproducts.tests.conftest import port_values

pytestmark = pytest.mark.django_db

# Teams from a trusted location (the only place Group entities come from; they then drive the Django groups, so
# the personas are listed as members), and a few entities of other kinds to pick from.
TEAMS = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: finance, title: Finance data team}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: marketing}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: data-science, title: Data science}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec: {memberOf: [finance]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: bob}
spec: {memberOf: [marketing]}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: ledger, title: General ledger}
spec: {owner: group:finance}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: archive, title: Archive}
spec: {owner: group:finance}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ledger-api, namespace: apps}
spec: {type: service, lifecycle: production, owner: group:finance}
"""


def register(root, name: str, text: str, *, actor, trusted: bool) -> Location:
    """``text`` in a file of its own, registered: trust decides what the pickers offer, not where files live."""
    path = root / f"{name}.yaml"
    path.write_text(text)
    result = location_register(type="file", target=str(path), actor=actor, trusted=trusted)
    assert not result.errors, result.errors
    return result.location


@pytest.fixture
def teams(platform_user, catalog_files):
    return register(catalog_files, "teams", TEAMS, actor=platform_user, trusted=True)


def values(choices: list[pickers.PickerChoice]) -> list[str]:
    return [choice.value for choice in choices]


def test_alice_may_pick_her_own_team_only(teams, alice):
    choices = pickers.owner_choices(user=alice)

    assert choices == [pickers.PickerChoice("group:finance", "Finance data team (group:finance)")]


def test_a_member_of_another_team_sees_that_team(teams, bob):
    assert values(pickers.owner_choices(user=bob)) == ["group:marketing"]


def test_someone_in_no_team_may_pick_no_owner(teams, carol):
    assert pickers.owner_choices(user=carol) == []
    assert not pickers.owner_contains(value="group:finance", user=carol)


def test_staff_may_pick_every_group(teams, platform_user):
    assert values(pickers.owner_choices(user=platform_user)) == [
        "group:data-science",
        "group:finance",
        "group:marketing",
        "group:platform",  # a Django group with no entity: the staff member's own team
    ]


def test_owner_membership_accepts_the_long_form_of_a_ref_and_nothing_else(teams, alice):
    assert pickers.owner_contains(value="group:finance", user=alice)
    assert pickers.owner_contains(value="group:default/finance", user=alice)
    assert pickers.owner_contains(value="finance", user=alice)  # the kind defaults to group
    assert not pickers.owner_contains(value="group:marketing", user=alice)
    assert not pickers.owner_contains(value="user:finance", user=alice)


def test_entity_choices_are_the_allowed_kinds_by_title(teams):
    assert pickers.entity_choices(kinds=["System"]) == [
        pickers.PickerChoice("system:archive", "Archive (system:archive)"),
        pickers.PickerChoice("system:ledger", "General ledger (system:ledger)"),
    ]
    assert values(pickers.entity_choices(kinds=["component"])) == ["component:apps/ledger-api"]


def test_entity_choices_leave_out_orphans_and_stop_at_the_cap(teams, monkeypatch):
    Entity.objects.filter(name="archive").update(orphan=True)
    assert values(pickers.entity_choices(kinds=["system"])) == ["system:ledger"]

    monkeypatch.setattr(pickers, "MAX_CHOICES", 2)
    assert len(pickers.entity_choices(kinds=["group"])) == 2


def test_entity_membership_is_read_from_the_catalog(teams):
    assert pickers.entity_contains(value="system:ledger", kinds=["System"])
    assert pickers.entity_contains(value="ledger", kinds=["System"])  # the only allowed kind is the default
    assert pickers.entity_contains(value="component:apps/ledger-api", kinds=["Component", "System"])
    assert not pickers.entity_contains(value="component:apps/ledger-api", kinds=["System"])
    assert not pickers.entity_contains(value="system:nowhere", kinds=["System"])
    assert not pickers.entity_contains(value="system:led\x00ger", kinds=["System"])


def test_domain_choices_are_the_domain_entities(file_domains):
    assert pickers.domain_choices() == [
        pickers.PickerChoice("domain:finance", "Finance (domain:finance)"),
        pickers.PickerChoice("domain:marketing", "Marketing (domain:marketing)"),
    ]
    assert pickers.domain_contains(value="domain:finance")
    assert not pickers.domain_contains(value="domain:sales")


NAMESPACED_DOMAIN = """\
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata: {name: finance, namespace: evil, title: Not finance}
spec: {owner: group:marketing}
"""
NEW_DOMAIN = """\
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata: {name: newdom, title: Unvetted}
spec: {owner: group:marketing}
"""


@pytest.mark.parametrize("trusted", [False, True])
def test_domains_to_pick_come_from_trusted_locations_in_the_default_namespace(
    file_domains, platform_user, catalog_files, trusted
):
    # another namespace never counts, trusted or not; an untrusted location never adds a domain
    for name, text, trust in [("namespaced", NAMESPACED_DOMAIN, trusted), ("unvetted", NEW_DOMAIN, False)]:
        register(catalog_files, name, text, actor=platform_user, trusted=trust)
    assert Entity.objects.filter(ref__in=["domain:evil/finance", "domain:default/newdom"]).count() == 2

    assert values(pickers.domain_choices()) == ["domain:finance", "domain:marketing"]
    assert not pickers.domain_contains(value="domain:evil/finance")
    assert not pickers.domain_contains(value="domain:newdom")
    assert pickers.domain_contains(value="domain:finance")


def test_component_choices_are_the_other_components_of_the_data_product(build_dp, alice):
    data_product = build_dp(
        alice,
        components=[port_values(name="ledger", title="Ledger"), port_values(name="balances", title="Balances")],
    )
    ledger = selectors.component_get(name="finance.cashflow.0.ledger")

    choices = pickers.component_choices(data_product=data_product)
    assert choices == [
        pickers.PickerChoice(
            "urn:dmb:cmp:finance:cashflow:0:balances", "Balances (urn:dmb:cmp:finance:cashflow:0:balances)"
        ),
        pickers.PickerChoice("urn:dmb:cmp:finance:cashflow:0:ledger", "Ledger (urn:dmb:cmp:finance:cashflow:0:ledger)"),
    ]
    editing = PickerContext(user=alice, data_product=data_product, component=ledger)
    assert values(pickers.picker_choices(picker="ComponentPicker", options={}, context=editing)) == [
        "urn:dmb:cmp:finance:cashflow:0:balances"
    ]
    assert not pickers.picker_contains(
        picker="ComponentPicker", value="urn:dmb:cmp:finance:cashflow:0:ledger", options={}, context=editing
    )
    assert pickers.component_choices(data_product=None) == []
