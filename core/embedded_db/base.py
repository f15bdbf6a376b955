"""Django database backend for the embedded server: PostgreSQL, started on first connection."""

from pathlib import Path

from django.conf import settings
from django.db.backends.postgresql import base

from core.embedded_db import ensure_server


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        server = ensure_server(Path(settings.MESHFORGE_DATA_DIR), database=settings.EMBEDDED_DATABASE_NAME)
        self.settings_dict["HOST"] = server.socket_dir
        self.settings_dict["PORT"] = str(server.port)
        return super().get_connection_params()
