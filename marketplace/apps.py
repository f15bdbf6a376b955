"""The marketplace: published data products, their contracts, and access requests that really grant."""

from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Marketplace"
