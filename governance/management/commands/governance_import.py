"""``manage.py governance_import FILE…``: create or update policies from policy files, by name, through
``policy_save`` (one new version per changed policy, audited). Every document is checked first: one bad document
refuses the whole import, naming the document and the field, and nothing is saved."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.services import OPERATOR
from governance.models import POLICY_FIELDS, Policy
from governance.policyfiles import PolicyFileError, policies_read_files
from governance.services import policy_save


class Command(BaseCommand):
    help = "Create or update policies (by name) from policy files; nothing is saved if any document is invalid."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="policy files (one YAML document per policy)")

    def handle(self, *args, files: list[str], **options):
        try:
            policies = policies_read_files(files)
        except PolicyFileError as exc:
            raise CommandError(str(exc)) from None
        counts = {"created": 0, "changed": 0, "unchanged": 0}
        with transaction.atomic():
            existing = Policy.objects.select_for_update().in_bulk(
                [policy.name for policy in policies], field_name="name"
            )
            for read in policies:
                policy = existing.get(read.name)
                if policy is None:
                    policy, outcome = read, "created"
                else:
                    for name in POLICY_FIELDS:
                        setattr(policy, name, getattr(read, name))
                    outcome = "changed"
                versions = policy.versions.count() if policy.pk is not None else 0
                try:
                    policy_save(policy=policy, actor=OPERATOR)
                except ValidationError as exc:
                    field, messages = next(iter(exc.message_dict.items()))
                    raise CommandError(f"policy {read.name}: {field}: {'; '.join(messages)}") from None
                if outcome == "changed" and policy.versions.count() == versions:
                    outcome = "unchanged"
                counts[outcome] += 1
                self.stdout.write(f"{read.name}: {outcome}")
        self.stdout.write(", ".join(f"{count} {outcome}" for outcome, count in counts.items()))
