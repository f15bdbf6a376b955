"""One rule for team names (PRODUCT §8): refs are case-insensitive, so a Group entity ``Finance-Team`` is the Django
group ``finance-team`` and ``group:finance-team``, ``group:Finance-Team`` and ``group:default/FINANCE-TEAM`` all
name it, for the membership sync and for every permission check alike."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from catalog import teams
from catalog.models import CatalogTeam
from catalog.services import location_register
from catalog.teams import teams_sync
from core.services import OPERATOR
from dataproducts import selectors
from dataproducts.filtersets import DataProductFilterSet
from dataproducts.models import DataProduct
from dataproducts.tests.conftest import DOMAINS_YAML
from dataproducts.tests.test_filtersets import make_dp

pytestmark = pytest.mark.django_db

FINANCE_TEAM = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: Finance-Team, title: Finance team}
spec: {type: team, children: [], members: [user:alice]}
"""


@pytest.fixture
def finance_team(personas, catalog_files):
    """The Group entity Finance-Team (alice a member) and the users, from a trusted location."""
    result = _teams_register(catalog_files)
    assert not result.errors, result.errors
    return result.location


def _teams_register(root):
    """Finance-Team and the domains' file registered as a trusted location (a file: the sync reads the catalog,
    whichever location the entities come from)."""
    (root / "teams.yaml").write_text(f"{FINANCE_TEAM}---\n{DOMAINS_YAML}", encoding="utf-8")
    return location_register(type="file", target=str(root / "teams.yaml"), actor=OPERATOR, trusted=True)


def owned_by(owner_ref: str) -> DataProduct:
    return DataProduct(name="finance.cashflow.0", owner_ref=owner_ref, dev_group_ref="")


def test_a_mixed_case_group_entity_becomes_the_lower_case_django_group(finance_team, alice):
    assert list(Group.objects.filter(name__iexact="finance-team").values_list("name", flat=True)) == ["finance-team"]
    assert alice.groups.filter(name="finance-team").exists()


@pytest.mark.parametrize("owner_ref", ["group:finance-team", "group:Finance-Team", "group:default/FINANCE-TEAM"])
def test_members_of_a_mixed_case_group_may_write_what_it_owns(finance_team, alice, bob, owner_ref):
    assert selectors.dataproduct_may_write(data_product=owned_by(owner_ref), user=alice)
    assert teams.team_may_write(owner_ref=owner_ref, user=alice)
    assert not selectors.dataproduct_may_write(data_product=owned_by(owner_ref), user=bob)
    assert teams.team_of_ref(owner_ref) == "finance-team"


def test_a_member_may_pick_the_mixed_case_group_as_owner_in_the_builder(finance_team, alice):
    assert "group:finance-team" in selectors.user_team_refs(user=alice)


def test_a_group_synced_before_with_its_entity_case_is_renamed_keeping_its_members(finance_team, alice, bob):
    group = Group.objects.get(name="finance-team")
    Group.objects.filter(pk=group.pk).update(name="Finance-Team")  # as the sync used to name it
    bob.groups.add(group)  # a member the sync no longer wants

    teams_sync()

    group.refresh_from_db()
    assert (
        group.name == "finance-team" and CatalogTeam.objects.get(group=group).entity_ref == "group:default/finance-team"
    )
    assert list(group.user_set.values_list("username", flat=True)) == ["alice"]


def test_a_group_an_admin_made_with_other_case_is_taken_over_not_duplicated(personas, catalog_files, alice):
    made_by_hand = Group.objects.create(name="FINANCE-TEAM")

    _teams_register(catalog_files)

    made_by_hand.refresh_from_db()
    assert made_by_hand.name == "finance-team"
    assert Group.objects.filter(name__iexact="finance-team").count() == 1
    assert alice.groups.filter(pk=made_by_hand.pk).exists()


def test_when_both_cases_exist_the_lower_case_group_is_the_team_and_the_other_loses_its_synced_members(
    finance_team, alice
):
    old = Group.objects.get(name="finance-team")
    Group.objects.filter(pk=old.pk).update(name="Finance-Team")
    lower = Group.objects.create(name="finance-team")

    teams_sync()

    assert CatalogTeam.objects.get(entity_ref="group:default/finance-team").group == lower
    assert list(lower.user_set.values_list("username", flat=True)) == ["alice"]
    assert not Group.objects.get(pk=old.pk).user_set.exists()


def test_a_hand_made_group_with_capitals_still_grants_its_members(personas, carol):
    carol.groups.add(Group.objects.create(name="Data-Eng"))

    assert selectors.dataproduct_may_write(data_product=owned_by("group:data-eng"), user=carol)
    assert teams.team_may_write(owner_ref="group:Data-Eng", user=carol)


def test_my_data_products_lists_those_of_a_hand_made_group_with_capitals(personas, carol):
    carol.groups.add(Group.objects.create(name="Data-Eng"))
    make_dp("finance.cashflow.0", owner_team="data-eng")
    make_dp("finance.ledger.0", owner_team="finance")

    mine = DataProductFilterSet({"mine": "true"}, queryset=DataProduct.objects.all(), request_user=carol).qs

    assert [data_product.name for data_product in mine] == ["finance.cashflow.0"]
