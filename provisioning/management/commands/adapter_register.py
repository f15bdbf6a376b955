"""``manage.py adapter_register --infrastructure-template-id ID --environment ENV --url URL [--timeout S]``: register
(or update) the tech adapter of a template in an environment, audited like the admin's."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.services import OPERATOR
from provisioning import services


class Command(BaseCommand):
    help = "Register the tech adapter that provisions an infrastructure template's components in an environment."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--infrastructure-template-id", required=True, dest="template")
        parser.add_argument("--environment", required=True)
        parser.add_argument("--url", required=True, help="The adapter's base URL")
        parser.add_argument(
            "--timeout", type=float, help="Seconds per request (the operation limit stays at least this)"
        )
        parser.add_argument("--auth-header", default="", help="Header name of the adapter's credential")
        parser.add_argument("--auth-env", default="", help="Environment variable holding the header's value")
        parser.add_argument("--async-validation", action="store_true", help="Validate through /v2/validate")

    def handle(self, *args, template: str, environment: str, url: str, timeout: float | None, **options) -> None:
        fields = {
            "auth_header": options["auth_header"],
            "auth_env": options["auth_env"],
            "async_validation": options["async_validation"],
        }
        if timeout is not None:
            fields["request_timeout"] = timeout
            fields["operation_timeout"] = max(timeout, 600.0)
        try:
            adapter, created = services.adapter_register(
                infrastructure_template_id=template, environment=environment, url=url, actor=OPERATOR, **fields
            )
        except ValidationError as exc:
            lines = [f"{field}: {message}" for field, messages in exc.message_dict.items() for message in messages]
            raise CommandError("adapter refused:\n" + "\n".join(f"  {line}" for line in lines)) from exc
        self.stdout.write(self.style.SUCCESS(f"{'Registered' if created else 'Updated'} {adapter} at {adapter.url}"))
