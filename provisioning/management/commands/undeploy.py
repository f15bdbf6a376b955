"""``manage.py undeploy <dp entity name> --environment ENV --user NAME [--remove-data] [--wait]``: undeploy what an
environment runs of a data product, components in reverse order, through the same service as the pages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from core.errors import ServiceError
from provisioning import services
from provisioning.management.watch import active_user, follow, outcome, product_identity


class Command(BaseCommand):
    help = "Undeploy a data product from an environment, as a user; with --wait, follow it to the end."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="The data product's entity name, e.g. finance.payments.0")
        parser.add_argument("--environment", required=True)
        parser.add_argument("--user", required=True, help="Username of the person undeploying")
        parser.add_argument("--remove-data", action="store_true", help="Also drop the data (tables)")
        parser.add_argument("--wait", action="store_true", help="Follow the run; exit 0 only when undeployed")
        parser.add_argument("--timeout", type=float, default=900.0, help="Seconds --wait waits (default 900)")

    def handle(self, *args, name: str, environment: str, user: str, remove_data: bool, wait: bool, **options) -> None:
        actor = active_user(user)
        product = product_identity(name)
        try:
            deployment = services.undeploy_request_create(
                product=product, environment=environment, actor=actor, remove_data=remove_data, auto_start=True
            )
        except (ServiceError, PermissionDenied) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Undeployment #{deployment.pk}: {name} from {environment}")
        if not wait:
            return
        deployment = follow(deployment, write=self.stdout.write, timeout=options["timeout"])
        outcome(deployment)
        self.stdout.write(self.style.SUCCESS(f"Undeployed {name} from {environment}"))
