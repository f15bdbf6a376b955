"""``seed_demo``: every installed app's demo hook in their declared order, then the personas' logins. It names no
app: an app joins the demo with the ``demo_seed`` of its AppConfig (see :mod:`core.demo`)."""

from django.core.management.base import BaseCommand

from core.demo import credentials_lines, demo_hooks


class Command(BaseCommand):
    help = "Create (or bring up to date) the demo personas, teams, catalog, templates and data products; idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--show-passwords", action="store_true", help="Print every persona's password.")

    def handle(self, *args, show_passwords: bool = False, **options):
        for hook in demo_hooks():
            hook.seed(report=self.stdout.write)
        for line in credentials_lines(show_passwords=show_passwords):
            self.stdout.write(line)
