from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from core.embedded_db import server_status, stop_server


class Command(BaseCommand):
    help = "Start, stop or show the embedded PostgreSQL server under MESHFORGE_DATA_DIR."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["start", "stop", "status"])

    def handle(self, *args, action: str, **options):
        if not settings.EMBEDDED_DATABASE:
            if action == "stop":
                self.stdout.write("DATABASE_URL is set: there is no embedded server to stop.")
                return
            if action == "start":
                raise CommandError("DATABASE_URL is set: Meshforge does not start an embedded server.")
        data_dir = Path(settings.MESHFORGE_DATA_DIR)
        if action == "stop":
            stopped = stop_server(data_dir)
            self.stdout.write("Embedded PostgreSQL stopped." if stopped else "Embedded PostgreSQL was not running.")
            return
        if action == "start":
            connection.ensure_connection()
        if settings.EMBEDDED_DATABASE:
            server = server_status(data_dir)
            if server is None:
                self.stdout.write("Embedded PostgreSQL is not running.")
                return
            where = f"socket {server.socket_dir} (pid {server.pid})"
        else:
            where = f"{connection.settings_dict['HOST']}:{connection.settings_dict['PORT'] or 5432}"
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        self.stdout.write(f"PostgreSQL {version} running at {where}, database {connection.settings_dict['NAME']}")
