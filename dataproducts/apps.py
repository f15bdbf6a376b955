"""Data products built from templates and kept in Git: descriptors, versions and releases."""

from django.apps import AppConfig


class DataproductsConfig(AppConfig):
    name = "dataproducts"
    verbose_name = "Builder"
    # seed_demo (see core.demo): templates and demo data products, in the demo catalog's domains and teams
    demo_seed = "dataproducts.demo.demo_seed"
    demo_seed_after = ("catalog",)

    def ready(self) -> None:
        from dataproducts import projections  # noqa: F401  (connects the catalog signal receiver)
