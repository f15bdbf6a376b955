"""Entities from Git locations: the catalog re-reads every registered location and keeps what it finds as
entities and relations."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"
