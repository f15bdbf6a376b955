"""The Builder's part of ``seed_demo``: the built-in templates in a trusted local repository, and the demo data
products created through ``dataproduct_create``/``component_create`` (the same path as the wizard), so the
demo proves that path. Idempotent: what exists is left alone."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model

from catalog.demo import trusted_folder_seed
from catalog.models import Location
from dataproducts import selectors, services
from dataproducts.models import DataProduct
from dataproducts.projections import projections_rebuild

BUILTIN_TEMPLATES = Path(__file__).resolve().parent / "builtin_templates"

# PostgreSQL types with the sizes they need (varchar(n), numeric(p, s)), as the output port's contract editor asks.
_COLUMNS_PAYMENTS = [
    {
        "name": "payment_id",
        "dataType": "VARCHAR",
        "dataLength": 36,
        "description": "Payment identifier",
        "constraint": "PRIMARY_KEY",
    },
    {"name": "settled_on", "dataType": "DATE", "description": "Day the payment settled"},
    {"name": "amount", "dataType": "DECIMAL", "precision": 12, "scale": 2, "description": "Amount in EUR"},
]

DEMO_DATA_PRODUCTS = [
    {
        "user": "alice",
        "values": {
            "name": "payments",
            "title": "Payments",
            "description": "Card and transfer payments, settled daily.",
            "domain": "domain:finance",
            "owner": "group:finance",
            "maturity": "Strategic",
            "informationSLA": "Daily by 06:00",
            "tags": ["payments", "pci"],
        },
        "components": [
            ("template:storage", {"name": "raw-payments", "title": "Raw payments", "description": "Landing area."}),
            (
                "template:workload",
                {
                    "name": "settle",
                    "title": "Settlement",
                    "description": "Settles raw payments.",
                    "dependsOn": ["urn:dmb:cmp:finance:payments:0:raw-payments"],
                    "sql": "SELECT * FROM raw_payments WHERE settled",
                },
            ),
            (
                "template:outputport",
                {
                    "name": "settled-payments",
                    "title": "Settled payments",
                    "description": "One row per settled payment.",
                    "dependsOn": ["urn:dmb:cmp:finance:payments:0:settle"],
                    "columns": _COLUMNS_PAYMENTS,
                    "termsAndConditions": "Internal use only",
                },
            ),
        ],
    },
    {
        "user": "alice",
        "values": {
            "name": "invoices",
            "title": "Invoices",
            "description": "Issued invoices and their payment status.",
            "domain": "domain:finance",
            "owner": "group:finance",
            "maturity": "Tactical",
            "tags": ["invoices"],
        },
        "components": [
            (
                "template:outputport",
                {
                    "name": "open-invoices",
                    "title": "Open invoices",
                    "description": "Invoices not paid yet.",
                    "columns": [
                        {"name": "invoice_id", "dataType": "VARCHAR", "dataLength": 36, "constraint": "PRIMARY_KEY"},
                        {"name": "due_on", "dataType": "DATE"},
                    ],
                },
            ),
        ],
    },
    {
        "user": "bob",
        "values": {
            "name": "campaigns",
            "title": "Campaigns",
            "description": "Marketing campaigns and their daily performance.",
            "domain": "domain:marketing",
            "owner": "group:marketing",
            "maturity": "Strategic",
            "tags": ["campaigns"],
        },
        "components": [
            ("template:storage", {"name": "spend", "title": "Spend", "description": "Ad spend per day."}),
            (
                "template:outputport",
                {
                    "name": "daily-performance",
                    "title": "Daily performance",
                    "description": "Clicks, impressions and spend per campaign and day.",
                    "dependsOn": ["urn:dmb:cmp:marketing:campaigns:0:spend"],
                    "columns": [
                        {"name": "campaign_id", "dataType": "VARCHAR", "dataLength": 36},
                        {"name": "day", "dataType": "DATE"},
                        {"name": "clicks", "dataType": "BIGINT"},
                    ],
                },
            ),
        ],
    },
]


def templates_repository_path() -> Path:
    return settings.MESHFORGE_GIT_ROOT / "platform" / "templates.git"


def templates_seed() -> Location:
    """Publish ``builtin_templates`` into the trusted template repository and register (or refresh) it."""
    return trusted_folder_seed(BUILTIN_TEMPLATES, templates_repository_path(), message="Built-in templates")


def demo_dataproducts_seed() -> list[DataProduct]:
    """Create the demo data products (and their components) that do not exist yet, as their owners."""
    users = get_user_model().objects.in_bulk([spec["user"] for spec in DEMO_DATA_PRODUCTS], field_name="username")
    created = []
    for spec in DEMO_DATA_PRODUCTS:
        actor = users[spec["user"]]
        values = spec["values"]
        name = f"{values['domain'].removeprefix('domain:')}.{values['name']}.0"
        data_product = selectors.dataproduct_get(name=name)
        if data_product is None:
            # a demo repository left on disk by an earlier database (make clean of the database only)
            stale = settings.MESHFORGE_GIT_ROOT / values["domain"].removeprefix("domain:") / f"{values['name']}.git"
            if stale.exists():
                shutil.rmtree(stale)
            template = selectors.template_get(ref="template:dataproduct")
            data_product = services.dataproduct_create(template=template, values=values, actor=actor)
            created.append(data_product)
        for template_ref, component_values in spec["components"]:
            if data_product.components.filter(slug=component_values["name"]).exists():
                continue
            template = selectors.template_get(ref=template_ref)
            services.component_create(
                data_product=data_product, template=template, values=component_values, actor=actor
            )
            data_product = selectors.dataproduct_get(name=name)
    return created


def demo_seed(*, report: Callable[[str], None]) -> None:
    """The Builder's demo hook (``DataproductsConfig.demo_seed``, after the demo catalog, whose domains and teams
    the products belong to): the built-in templates, the domains and data products the catalog holds projected
    again (creation looks its domain up there), then the demo data products, each created by its owner."""
    location = templates_seed()
    report(f"Built-in templates registered from {location.target}")
    projections_rebuild()
    created = demo_dataproducts_seed()
    report(f"Demo data products created through the Builder: {len(created)} new")
