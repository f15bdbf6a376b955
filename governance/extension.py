"""Governance on the data product pages, through the door of :mod:`core.extensions` (registered in
``GovernanceConfig.ready()``, so ``dataproducts`` never imports governance): the Governance tab, the compliance
badge in the page's header, and the Compliance column of "My data products"."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from core.extensions import DataProductExtension, ListColumn, Tab
from governance import selectors


def tab_context(request: HttpRequest, data_product) -> dict:
    """The latest evaluation of each policy in each environment, with its failing paths, and the waivers in force
    (the same queries for 2 evaluations or 200)."""
    return {
        "governance": selectors.dataproduct_governance(
            dp_id=data_product.dp_id, environments=settings.MESHFORGE_ENVIRONMENTS
        )
    }


def header_badge(request: HttpRequest, data_product, context: dict) -> SafeString:
    """The compliance badge: the Governance tab's when it is shown, otherwise one query."""
    compliance = context["governance"]["compliance"] if "governance" in context else None
    compliance = compliance or selectors.compliance_of(dp_id=data_product.dp_id)
    return render_to_string(
        "governance/partials/compliance_badge.html",
        {"failing": compliance["failing"], "evaluated": compliance["evaluated"]},
    )


EXTENSION = DataProductExtension(
    name="governance",
    tab=Tab(
        key="governance", label="Governance", template="governance/partials/dataproduct_tab.html", context=tab_context
    ),
    badge=header_badge,
    list_column=ListColumn(
        label="Compliance",
        template="governance/partials/dataproduct_row_compliance.html",
        # the badge of each row rides on the list's own query
        annotate=selectors.dataproducts_with_compliance,
    ),
)
