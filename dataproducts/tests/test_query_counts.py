"""Query-count baselines (PRODUCT §10: a page costs the same number of SQL queries whatever the data size): the
"My data products" list for 2 and 20 products, and every tab of the data product page and the component page
for a product of 2 and of 20 components."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.services import location_register
from dataproducts.models import DataProduct
from dataproducts.tests.test_views_pages import HTMX, component_document, system_document, yaml_file
from dataproducts.tests.test_views_pages_git import publish  # noqa: F401 - a fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_catalog")]


@pytest.fixture(autouse=True)
def templates_location(templates_location_shared):
    """The built-in templates registered once for this module (no test here commits or flushes the database),
    for every test of it alike: the tests that only read them get the same entities as those that render them."""
    return templates_location_shared


def queries(client, url: str, **headers) -> int:
    """The queries of one request, after a first one that warms what a process caches once (content types,
    the session's user)."""
    client.get(url, **headers)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200, url
    return len(captured)


KINDS = ["storage", "workload", "outputport"]


@pytest.fixture
def two_and_twenty(publish):  # noqa: F811 - the fixture imported above
    """finance.small.0 with 2 components and finance.large.0 with 20, each depending on the one before, in Git
    repositories (for the pages that read Git: the descriptor's environment files, the edit form)."""

    def components(dp_name: str, count: int) -> list[dict]:
        return [
            component_document(
                dp_name,
                f"c{index:02}",
                kind=KINDS[index % 3],
                depends_on=(f"c{index - 1:02}",) if index else (),
            )
            for index in range(count)
        ]

    publish(system_document("finance.small.0", title="Small"), components("finance.small.0", 2))
    publish(system_document("finance.large.0", title="Large"), components("finance.large.0", 20))


@pytest.fixture
def built_two_and_twenty(build_dp, templates_location, alice):
    """The same two products and components, built without Git (for the pages that read only the catalog)."""

    def components(name: str, count: int) -> list[dict]:
        return [
            {
                "kind": KINDS[index % 3],
                "name": f"c{index:02}",
                "title": f"c{index:02}",
                "dependsOn": [f"urn:dmb:cmp:finance:{name}:0:c{index - 1:02}"] if index else [],
                "sql": "SELECT 1",
            }
            for index in range(count)
        ]

    small = build_dp(alice, name="small", title="Small", components=components("small", 2))
    large = build_dp(alice, name="large", title="Large", components=components("large", 20))
    assert (small.components.count(), large.components.count()) == (2, 20)


@pytest.mark.parametrize(
    ("tab", "products"),
    [
        ("overview", "built_two_and_twenty"),
        ("components", "built_two_and_twenty"),
        ("descriptor", "two_and_twenty"),  # reads each entity's environment files from Git
    ],
)
@pytest.mark.parametrize("persona", ["alice", "bob"])
def test_each_tab_of_the_data_product_page_costs_the_same_for_2_and_20_components(
    request, client, personas, tab, products, persona
):
    if products == "two_and_twenty":
        request.getfixturevalue("templates_location")
    request.getfixturevalue(products)
    client.force_login(personas[persona])

    def url(name: str) -> str:
        return reverse("dp:dataproduct_detail", args=[name]) + f"?tab={tab}"

    assert queries(client, url("finance.small.0")) == queries(client, url("finance.large.0"))
    # and so does the htmx fragment of the tab
    assert queries(client, url("finance.small.0"), **HTMX) == queries(client, url("finance.large.0"), **HTMX)


def test_the_component_page_costs_the_same_in_a_product_of_2_and_of_20_components(client, alice, built_two_and_twenty):
    client.force_login(alice)

    def url(name: str) -> str:
        return reverse("dp:component_detail", args=[name, "c01"])

    assert queries(client, url("finance.small.0")) == queries(client, url("finance.large.0"))


def test_the_edit_page_costs_the_same_for_2_and_20_components(client, alice, two_and_twenty, templates_location):
    client.force_login(alice)

    def url(name: str) -> str:
        return reverse("dp:dataproduct_edit", args=[name])

    assert queries(client, url("finance.small.0")) == queries(client, url("finance.large.0"))


@pytest.mark.parametrize("persona", ["alice", "platform"])
def test_my_data_products_costs_the_same_for_2_and_20_products(client, personas, catalog_files, platform_user, persona):
    def publish_many(name: str, count: int) -> None:
        systems = [system_document(f"finance.{name}{index:02}.0", title=f"P{index}") for index in range(count)]
        # every product with a component, so that the component count is part of what is measured
        components = [component_document(f"finance.{name}{index:02}.0", "port") for index in range(count)]
        path = catalog_files / f"{name}.yaml"
        path.write_text(yaml_file(*systems, *components))
        # a trusted file: the list reads only the catalog's rows, wherever the products live
        location_register(type="file", target=str(path), actor=platform_user, trusted=True)

    client.force_login(personas[persona])
    url = reverse("dataproducts:home")

    publish_many("few", 2)
    few = queries(client, url)
    publish_many("many", 18)
    assert DataProduct.objects.count() == 20
    assert queries(client, url) == few
    assert queries(client, url + "?q=p1", **HTMX) == queries(client, url + "?q=p", **HTMX)
