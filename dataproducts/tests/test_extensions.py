"""The data product pages reach governance and provisioning only through the door of ``core.extensions``:
``dataproducts`` imports nothing from either and names none of their templates, their tabs come after the page's own,
and with governance's extension taken out the pages render without its tab, badge and column."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.urls import reverse

from core import extensions

pytestmark = pytest.mark.django_db

APP = Path(__file__).resolve().parents[1]


def _imported_modules(path: Path) -> list[str]:
    modules = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.append(node.module)
    return modules


@pytest.mark.django_db(False)
@pytest.mark.parametrize("app", ["governance", "provisioning"])
def test_dataproducts_imports_nothing_from_the_apps_that_extend_it(app):
    sources = [path for path in APP.rglob("*.py") if "tests" not in path.relative_to(APP).parts]
    offending = [
        f"{path.relative_to(APP)}: {module}"
        for path in sources
        for module in _imported_modules(path)
        if module == app or module.startswith(f"{app}.")
    ]
    assert sources and offending == []


@pytest.mark.django_db(False)
@pytest.mark.parametrize("app", ["governance", "provisioning"])
def test_dataproducts_templates_name_no_template_or_url_of_the_apps_that_extend_it(app):
    templates = list((APP / "templates").rglob("*.html"))
    offending = [str(path.relative_to(APP)) for path in templates if re.search(rf"""["']{app}[/:]""", path.read_text())]
    assert templates and offending == []


def test_the_deployments_and_governance_tabs_come_after_the_pages_own(client, alice, build_dp):
    data_product = build_dp(alice)
    client.force_login(alice)

    html = client.get(reverse("dp:dataproduct_detail", args=[data_product.name])).content.decode()

    labels = re.findall(r'<li><a href="[^"]*\?tab=(\w+)"', html)
    assert labels == ["overview", "components", "descriptor", "releases", "deployments", "governance"]


def test_without_governances_extension_the_pages_have_no_governance_tab_badge_or_column(
    client, alice, build_dp, monkeypatch
):
    monkeypatch.delitem(extensions.DATA_PRODUCT_EXTENSIONS, "governance")
    data_product = build_dp(alice)
    client.force_login(alice)
    url = reverse("dp:dataproduct_detail", args=[data_product.name])

    detail = client.get(url)
    tab = client.get(url + "?tab=governance")
    listed = client.get(reverse("dataproducts:home")).content.decode()

    assert detail.status_code == 200
    html = detail.content.decode()
    assert "?tab=releases" in html and "?tab=governance" not in html
    assert "badge-neutral" not in html and "Not evaluated" not in html
    assert tab.status_code == 400
    assert "tab: unknown tab &#x27;governance&#x27;; expected overview, components, descriptor, releases" in (
        tab.content.decode()
    )
    assert data_product.name in listed and "Compliance" not in listed and "badge-neutral" not in listed
