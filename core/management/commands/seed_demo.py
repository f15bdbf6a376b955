from django.core.management.base import BaseCommand
from django.db import transaction

from catalog.demo import demo_catalog_seed
from core.demo import credentials_path, demo_passwords
from core.services import audit_record
from core.testing.personas import PERSONAS, create_personas
from dataproducts.demo import demo_dataproducts_seed, templates_seed
from dataproducts.projections import projections_rebuild


class Command(BaseCommand):
    help = "Create (or bring up to date) the demo personas, teams, catalog, templates and data products; idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--show-passwords", action="store_true", help="Print every persona's password.")

    def handle(self, *args, show_passwords: bool = False, **options):
        passwords = demo_passwords()
        with transaction.atomic():
            users = create_personas(passwords=passwords)
            audit_record(actor=None, action="demo.seed", after={"personas": sorted(users)})
        self.stdout.write(f"Demo personas ready; passwords are kept in {credentials_path()}")
        location = demo_catalog_seed()
        self.stdout.write(f"Demo catalog registered from {location.target}")
        location = templates_seed()
        self.stdout.write(f"Built-in templates registered from {location.target}")
        projections_rebuild()
        created = demo_dataproducts_seed()
        self.stdout.write(f"Demo data products created through the Builder: {len(created)} new")
        for persona in PERSONAS:
            secret = passwords[persona.username] if show_passwords else "********"
            self.stdout.write(f"  {persona.username:<9} {secret:<18} {persona.description}")
