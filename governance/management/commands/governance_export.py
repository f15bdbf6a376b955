"""``manage.py governance_export [--output FILE]``: every policy as a multi-document YAML stream of policy files
(what ``governance_import`` reads back)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.models import Policy
from governance.policyfiles import policies_dump


class Command(BaseCommand):
    help = "Write every policy as policy files (multi-document YAML) to standard output or --output."

    def add_arguments(self, parser):
        parser.add_argument("--output", metavar="FILE", help="write here instead of standard output")

    def handle(self, *args, output: str | None, **options):
        text = policies_dump(Policy.objects.order_by("name"))
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"--output {output}: cannot be written ({exc.strerror or exc})") from None
        self.stdout.write(f"{Policy.objects.count()} policies written to {output}")
