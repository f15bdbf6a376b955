"""Entities from Git locations: the catalog re-reads every registered location and keeps what it finds as
entities and relations."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"
    # seed_demo (see core.demo): the demo catalog, whose teams and users are core's personas
    demo_seed = "catalog.demo.demo_seed"
    demo_seed_after = ("core",)
