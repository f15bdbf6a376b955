from django.core.management.base import BaseCommand, CommandError

from catalog.selectors import catalog_error_list


class Command(BaseCommand):
    help = "List the catalog's current errors (locations and entities); exit 1 if there are any."

    def handle(self, *args, **options):
        errors = catalog_error_list()
        for where, message in errors:
            self.stdout.write(f"{where}: {message}")
        if errors:
            raise CommandError(f"{len(errors)} catalog errors", returncode=1)
        self.stdout.write("No catalog errors.")
