"""Data products built from templates and kept in Git: descriptors, versions and releases."""

from django.apps import AppConfig


class DataproductsConfig(AppConfig):
    name = "dataproducts"
    verbose_name = "Builder"

    def ready(self) -> None:
        from dataproducts import projections  # noqa: F401  (connects the catalog signal receiver)
