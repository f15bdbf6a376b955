"""Provisioning: deployment plans run through technology adapters over the Tech Adapter HTTP API."""

from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "provisioning"
    verbose_name = "Provisioning"
