from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from catalog.choices import LocationType
from catalog.services import CatalogConflict, location_register
from core.services import OPERATOR


class Command(BaseCommand):
    help = "Register a catalog location and process it at once (operators act with staff rights)."

    def add_arguments(self, parser):
        parser.add_argument("target", help="e.g. file:///srv/git/finance/cashflow.git#main:catalog-info.yaml")
        parser.add_argument("--type", choices=LocationType.values, default=LocationType.GIT)
        parser.add_argument("--trusted", action="store_true", help="May carry templates and drive team membership.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would be added; change nothing.")

    def handle(self, *args, target: str, type: str, trusted: bool, dry_run: bool, **options):
        try:
            result = location_register(type=type, target=target, actor=OPERATOR, trusted=trusted, dry_run=dry_run)
        except (ValueError, PermissionDenied, CatalogConflict) as exc:
            raise CommandError(str(exc)) from exc
        verb = "would add" if dry_run else "added"
        for entity in result.entities:
            self.stdout.write(f"{verb} {entity.ref}")
        for error in result.errors:
            self.stderr.write(f"error: {error}")
        counts = result.counts
        self.stdout.write(
            f"{'Dry run: ' if dry_run else ''}{result.location}: {len(result.entities)} entities,"
            f" {counts.failed} failed, {len(result.errors)} errors"
        )
        if result.errors:
            raise CommandError(f"{len(result.errors)} errors", returncode=1)
