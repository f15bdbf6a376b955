"""Data products built from templates and kept in Git: descriptors, versions and releases."""

from django.apps import AppConfig


class DataproductsConfig(AppConfig):
    name = "dataproducts"
    verbose_name = "Builder"
