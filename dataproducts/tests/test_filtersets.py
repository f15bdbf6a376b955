"""``DataProductFilterSet``, shared by the "My data products" page and the API list: a filter for every field
people filter on, case-insensitive matching, and ``mine`` for the requesting user's teams.

The rows are made directly (the FilterSet is under test, not the projection that normally writes them)."""

from __future__ import annotations

import pytest
from django.db.models import ManyToOneRel

from catalog.models import Entity
from dataproducts.filtersets import DataProductFilterSet
from dataproducts.models import DataProduct

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_catalog")]

# Model fields that get no filter of their own, and why. Everything else must have one.
NOT_FILTERED = {
    "id": "the primary key is internal; the data product id is dp_id",
    "entity": "the catalog entity link; filter by name",
    "title": "searched by q",
    "description": "searched by q",
    "repository_url": "an address, not a property of the product",
    "search_text": "internal, serves q",
    "updated_at": "a bookkeeping timestamp",
}
# The filter names that differ from the field they filter.
FILTER_NAMES = {
    "dp_id": "id",
    "domain_name": "domain",
    "owner_ref": "owner",
    "dev_group_ref": "dev_group",
    "tags": "tag",
}


def make_dp(
    name: str,
    *,
    title: str = "",
    description: str = "",
    owner_team: str = "finance",
    maturity: str = "Strategic",
    tags: tuple[str, ...] = (),
    has_errors: bool = False,
    orphan: bool = False,
) -> DataProduct:
    domain, slug, major = name.split(".")
    entity = Entity.objects.create(
        kind="System",
        namespace="default",
        name=name,
        ref=f"system:default/{name}",
        document={"apiVersion": "backstage.io/v1alpha1", "kind": "System", "metadata": {"name": name}, "spec": {}},
        result_hash=name,
    )
    return DataProduct.objects.create(
        entity=entity,
        name=name,
        dp_id=f"urn:dmb:dp:{domain}:{slug}:{major}",
        domain_name=domain,
        slug=slug,
        major=int(major),
        title=title,
        description=description,
        owner_ref=f"group:default/{owner_team}",
        owner_team=owner_team,
        dev_group_ref=f"group:default/{owner_team}",
        data_product_owner="user:default/alice",
        maturity=maturity,
        lifecycle="experimental",
        version="0.1.0",
        use_case_template_id="urn:dmb:utm:dataproduct-template:0.0.0",
        tags=list(tags),
        has_errors=has_errors,
        orphan=orphan,
    )


@pytest.fixture
def products(personas):
    make_dp("finance.cashflow.0", title="Cash flow", description="Operating cash flows", tags=("gold",))
    make_dp("finance.ledger.1", title="General ledger", maturity="Tactical", has_errors=True)
    make_dp("marketing.campaigns.0", title="Campaigns", description="Cash spent per campaign", owner_team="marketing")
    make_dp("sales.orders.0", title="Orders", owner_team="sales", orphan=True)


def names(data: dict, **kwargs) -> list[str]:
    filterset = DataProductFilterSet(data, queryset=DataProduct.objects.all(), **kwargs)
    assert filterset.is_valid(), filterset.errors
    return sorted(filterset.qs.values_list("name", flat=True))


def test_every_model_field_meant_for_filtering_has_a_filter():
    filters = DataProductFilterSet.get_filters()
    missing = []
    for field in DataProduct._meta.get_fields():
        if isinstance(field, ManyToOneRel) or field.name in NOT_FILTERED:
            continue  # reverse relations (components) are filtered from their own side
        if FILTER_NAMES.get(field.name, field.name) not in filters:
            missing.append(field.name)
    assert missing == []


def test_the_exemptions_name_real_fields():
    # a field renamed on the model must not hide behind a stale exemption
    fields = {field.name for field in DataProduct._meta.get_fields()}
    assert set(NOT_FILTERED) <= fields and set(FILTER_NAMES) <= fields


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"q": "cash"}, ["finance.cashflow.0", "marketing.campaigns.0"]),
        ({"q": "CASH campaign"}, ["marketing.campaigns.0"]),
        ({"q": "ledger.1"}, ["finance.ledger.1"]),
        ({"q": "operating"}, ["finance.cashflow.0"]),
        ({"domain": "FINANCE"}, ["finance.cashflow.0", "finance.ledger.1"]),
        ({"maturity": "tactical"}, ["finance.ledger.1"]),
        ({"owner_team": "marketing"}, ["marketing.campaigns.0"]),
        ({"owner": "group:default/sales"}, ["sales.orders.0"]),
        ({"id": "urn:dmb:dp:finance:cashflow:0"}, ["finance.cashflow.0"]),
        ({"major": "1"}, ["finance.ledger.1"]),
        ({"tag": "gold"}, ["finance.cashflow.0"]),
        ({"has_errors": "true"}, ["finance.ledger.1"]),
        ({"orphan": "true"}, ["sales.orders.0"]),
        ({"has_errors": "false", "orphan": "false", "domain": "finance"}, ["finance.cashflow.0"]),
    ],
)
def test_each_filter_narrows_the_list(products, data, expected):
    assert names(data) == expected


def test_mine_keeps_the_products_of_the_users_teams(products, alice, bob):
    assert names({"mine": "true"}, request_user=alice) == ["finance.cashflow.0", "finance.ledger.1"]
    assert names({"mine": "true"}, request_user=bob) == ["marketing.campaigns.0"]


def test_mine_false_keeps_the_products_of_other_teams(products, alice):
    assert names({"mine": "false"}, request_user=alice) == ["marketing.campaigns.0", "sales.orders.0"]


def test_mine_reads_the_user_from_the_request_as_the_api_passes_it(products, rf, bob):
    request = rf.get("/")
    request.user = bob
    assert names({"mine": "true"}, request=request) == ["marketing.campaigns.0"]


def test_mine_without_a_user_matches_nothing_rather_than_everything(products, carol):
    assert names({"mine": "true"}) == []
    assert names({"mine": "true"}, request_user=carol) == []


def test_no_filters_list_every_product(products):
    assert len(names({})) == 4
