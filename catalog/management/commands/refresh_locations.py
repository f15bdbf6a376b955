from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from catalog.models import Location
from catalog.processing import ProcessCounts
from catalog.tasks import refresh_due


class Command(BaseCommand):
    help = "Process the due catalog locations now, in this process (with --all: every location)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Make every location due first.")
        parser.add_argument(
            "--wait", action="store_true", help="Repeat until none is due, so child locations found on the way run too."
        )

    def handle(self, *args, all: bool, wait: bool, **options):
        if all:
            Location.objects.update(next_refresh_at=timezone.now())
        counts = ProcessCounts()
        while True:
            run = refresh_due(time_budget=settings.CATALOG_TICK_SECONDS * 30)
            counts += run
            if not wait or not run.locations:
                break
        self.stdout.write(
            f"{counts.locations} locations: {counts.added} added, {counts.updated} updated,"
            f" {counts.unchanged} unchanged, {counts.failed} failed, {counts.orphaned} orphaned"
        )
