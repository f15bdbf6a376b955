"""A data product's repository paths and branch come from the target its location reads."""

import pytest

from catalog.models import Entity
from catalog.readers import InvalidTarget
from dataproducts.layout import ProductLayout, components_location, environment_file

REPOSITORY = "https://git.example.com/finance/cashflow.git"


def _system(target: str) -> Entity:
    return Entity(kind="System", namespace="default", name="finance.cashflow.1", source_target=target)


def test_a_product_read_from_a_release_branch_is_written_on_that_branch():
    layout = ProductLayout.of(_system(f"{REPOSITORY}#release/1:catalog-info.yaml"))

    assert (layout.repository, layout.branch, layout.catalog_path) == (REPOSITORY, "release/1", "catalog-info.yaml")
    assert layout.target == f"{REPOSITORY}#release/1:catalog-info.yaml"


def test_a_target_without_a_branch_is_the_default_branch_meshforge_creates():
    assert ProductLayout.of(_system(f"{REPOSITORY}#:catalog-info.yaml")).branch == "main"
    assert ProductLayout(repository=REPOSITORY).target == f"{REPOSITORY}#main:catalog-info.yaml"


def test_the_paths_of_a_product_kept_in_a_folder_are_below_that_folder():
    layout = ProductLayout.of(_system(f"{REPOSITORY}#main:products/cashflow/catalog-info.yaml"))

    assert layout.folder == "products/cashflow"
    assert layout.component_folder("orders") == "products/cashflow/components/orders"
    assert layout.component_target(layout.component_folder("orders")) == "./components/orders/catalog-info.yaml"
    assert layout.releases_folder == "products/cashflow/releases"
    assert environment_file("production") == "environments/production/configurations.yaml"


def test_an_entity_not_read_from_git_has_no_layout():
    with pytest.raises(InvalidTarget):
        ProductLayout.of(_system("/srv/catalog/catalog-info.yaml"))


def test_the_components_location_lists_its_targets_or_none():
    assert components_location("finance.cashflow.0").endswith("  targets: []\n")
    assert components_location("finance.cashflow.0", ["./components/a/catalog-info.yaml"]).endswith(
        "  targets:\n    - ./components/a/catalog-info.yaml\n"
    )
