from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"
    # seed_demo runs every app's demo_seed (see core.demo); core's, the personas, comes first of all
    demo_seed = "core.demo.demo_seed"

    def ready(self):
        if settings.CELERY_EMBEDDED_BROKER:
            # kombu's filesystem transport expects its folders to exist, in producers and workers alike
            for key in ("data_folder_in", "data_folder_out", "control_folder", "processed_folder"):
                Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]).mkdir(parents=True, exist_ok=True)
