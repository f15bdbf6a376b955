"""Provisioning: deployment plans run through technology adapters over the Tech Adapter HTTP API."""

from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "provisioning"
    verbose_name = "Provisioning"
    # seed_demo (see core.demo): the built-in adapters, a release of each demo product and its deployment
    demo_seed = "provisioning.demo.demo_seed"
    demo_seed_after = ("dataproducts", "governance")  # the products exist, and the starter policies gate them
