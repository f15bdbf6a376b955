"""Computational governance: policies evaluated against descriptors before anything reaches an environment."""

from django.apps import AppConfig, apps


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"
    # seed_demo (see core.demo): the starter policies
    demo_seed = "governance.demo.demo_seed"
    demo_seed_after = ("dataproducts",)  # after the demo products: the starter policies gate what comes next

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from core.extensions import register_dataproduct_extension
        from core.validation import post_clean
        from dataproducts.models import Release
        from governance import extension, gate

        # every path that validates a Release meets the gate (STYLE habit 11); dataproducts never imports governance
        post_clean.connect(gate.release_gate, sender=Release, dispatch_uid="governance.release_gate")
        post_save.connect(gate.release_evaluations_store, sender=Release, dispatch_uid="governance.release_store")
        # a deployment request meets the same gate for its environment (provisioning, when installed)
        if apps.is_installed("provisioning"):
            post_clean.connect(
                gate.deployment_gate,
                sender=apps.get_model("provisioning", "Deployment"),
                dispatch_uid="governance.deployment_gate",
            )
        # the Governance tab, the compliance badge and column of the data product pages (core.extensions)
        register_dataproduct_extension(extension.EXTENSION)
