"""Provisioning: deployment plans run through technology adapters over the Tech Adapter HTTP API."""

from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "provisioning"
    verbose_name = "Provisioning"
    # seed_demo (see core.demo): the built-in adapters, a release of each demo product and its deployment
    demo_seed = "provisioning.demo.demo_seed"
    demo_seed_after = ("dataproducts", "governance")  # the products exist, and the starter policies gate them

    def ready(self) -> None:
        from core.extensions import register_dataproduct_extension
        from provisioning import extension

        # the Deployments tab of the data product page (core.extensions): dataproducts never imports provisioning
        register_dataproduct_extension(extension.EXTENSION)
