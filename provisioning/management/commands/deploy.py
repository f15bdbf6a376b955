"""``manage.py deploy <dp entity name> --environment ENV --release VERSION --user NAME [--wait]``: deploy a release
through the same service as the Deployments tab and the API (the worker checks and runs it, without a preview)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from core.errors import ServiceError
from dataproducts.models import Release
from provisioning import services
from provisioning.management.watch import active_user, follow, outcome, product_identity


class Command(BaseCommand):
    help = "Deploy a release of a data product to an environment, as a user; with --wait, follow it to the end."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="The data product's entity name, e.g. finance.payments.0")
        parser.add_argument("--environment", required=True)
        parser.add_argument("--release", required=True, help="The release's version, e.g. 0.1.0")
        parser.add_argument("--user", required=True, help="Username of the person deploying")
        parser.add_argument("--wait", action="store_true", help="Follow the run; exit 0 only when deployed")
        parser.add_argument("--timeout", type=float, default=900.0, help="Seconds --wait waits (default 900)")

    def handle(self, *args, name: str, environment: str, release: str, user: str, wait: bool, **options) -> None:
        actor = active_user(user)
        product = product_identity(name)
        found = Release.objects.filter(product=product, version=release).first()
        if found is None:
            raise CommandError(f"--release: {name} has no release {release!r}")
        try:
            deployment = services.deployment_request_create(
                release=found, environment=environment, actor=actor, auto_start=True
            )
        except (ServiceError, PermissionDenied) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Deployment #{deployment.pk}: {name} {release} to {environment}")
        if not wait:
            self.stdout.write("The worker checks and runs it; follow it on the data product's Deployments tab.")
            return
        deployment = follow(deployment, write=self.stdout.write, timeout=options["timeout"])
        outcome(deployment)
        self.stdout.write(self.style.SUCCESS(f"Deployed {name} {release} to {environment}"))
