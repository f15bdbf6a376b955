"""``manage.py bench_builder``: how long the Builder takes from "Create" to the data product page showing the
processed entity, adding a component and editing, and how many SQL queries the data product page runs as a
product grows (PRODUCT §10: constant). Runs in a database and Git root of its own, through the same services
as the wizard."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

STATIC_BACKEND = "django.contrib.staticfiles.storage.StaticFilesStorage"
DOMAINS = """\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: bench-domains}
spec: {targets: [./domain.yaml]}
"""
DOMAIN = """\
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata: {name: bench}
spec: {owner: group:bench}
"""


class Command(BaseCommand):
    help = "Measure data product creation, component creation, edits and the DP page's query count."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=5, help="data products to create (default 5)")
        parser.add_argument("--components", type=int, default=6, help="components added to the last one")

    def handle(self, *args, products: int, components: int, **options):
        if products < 1 or components < 2:
            self.stderr.write("--products: at least 1; --components: at least 2")
            raise SystemExit(2)
        with tempfile.TemporaryDirectory(prefix="meshforge-bench-builder-") as tmp:
            root = Path(tmp)
            creation = connection.creation
            old_name = connection.settings_dict["NAME"]
            self.stdout.write(f"Creating a benchmark database next to {old_name!r}…")
            creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
            try:
                with override_settings(
                    MESHFORGE_GIT_ROOT=root / "git",
                    CATALOG_MIRROR_DIR=root / "mirrors",
                    STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": STATIC_BACKEND}},
                    ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
                ):
                    self._run(products, components)
            finally:
                creation.destroy_test_db(old_name, verbosity=0)

    def _run(self, products: int, components: int) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        from catalog.demo import trusted_folder_seed
        from dataproducts import selectors, services
        from dataproducts.demo import templates_seed

        templates_seed()
        domains = Path(settings.MESHFORGE_GIT_ROOT) / "bench-domains-src"
        domains.mkdir(parents=True)
        (domains / "catalog-info.yaml").write_text(DOMAINS)
        (domains / "domain.yaml").write_text(DOMAIN)
        trusted_folder_seed(
            domains, Path(settings.MESHFORGE_GIT_ROOT) / "platform" / "bench-domains.git", message="Bench"
        )
        user = get_user_model().objects.create_user("bench", email="bench@example.com")
        user.groups.add(Group.objects.create(name="bench"))
        client = Client()
        client.force_login(user)

        dp_template = selectors.template_get(ref="template:dataproduct")
        created, pages = [], []
        name = ""
        for index in range(products):
            values = {
                "name": f"product-{index}",
                "title": f"Product {index}",
                "description": "Benchmark data product",
                "domain": "domain:bench",
                "owner": "group:bench",
                "maturity": "Tactical",
            }
            begin = time.perf_counter()
            data_product = services.dataproduct_create(template=dp_template, values=values, actor=user)
            created.append(time.perf_counter() - begin)
            name = data_product.name
            begin = time.perf_counter()
            response = client.get(f"/dp/{name}/")
            pages.append(time.perf_counter() - begin)
            assert response.status_code == 200 and name.encode() in response.content
        total = [c + p for c, p in zip(created, pages, strict=True)]
        self._row("create → DP page", _figures(total), "", True)
        self._row("  of which create (service)", _figures(created), "", True)

        port = selectors.template_get(ref="template:outputport")
        added, queries = [], {}
        for index in range(components):
            data_product = selectors.dataproduct_get(name=name)
            values = {
                "name": f"port-{index}",
                "title": f"Port {index}",
                "description": "Benchmark output port",
                "dependsOn": [f"urn:dmb:cmp:bench:{data_product.slug}:0:port-{index - 1}"] if index else [],
                "columns": [
                    {"name": "id", "dataType": "VARCHAR", "dataLength": 36},
                    {"name": "value", "dataType": "DECIMAL", "precision": 12, "scale": 2},
                ],
            }
            begin = time.perf_counter()
            services.component_create(data_product=data_product, template=port, values=values, actor=user)
            added.append(time.perf_counter() - begin)
            if index + 1 in (2, components):
                for tab in ("overview", "components", "descriptor"):
                    with CaptureQueriesContext(connection) as captured:
                        client.get(f"/dp/{name}/?tab={tab}")
                    queries[(tab, index + 1)] = len(captured)
        self._row("add component", _figures(added), "", True)

        data_product = selectors.dataproduct_get(name=name)
        template = selectors.edit_template_for(entity=data_product.entity)
        initial = services.edit_initial(entity=data_product.entity, edit_template=template)
        revision = selectors.entity_file(entity=data_product.entity).revision
        begin = time.perf_counter()
        services.entity_edit(
            entity=data_product.entity,
            edit_template=template,
            values={**initial, "description": "Edited"},
            actor=user,
            base_revision=revision,
        )
        self._row("edit (commit + refresh)", f"{(time.perf_counter() - begin) * 1000:.0f} ms", "", True)
        for tab in ("overview", "components", "descriptor"):
            few, many = queries[(tab, 2)], queries[(tab, components)]
            self._row(
                f"DP page {tab} queries",
                f"{few} with 2 components, {many} with {components}",
                "constant",
                few == many,
            )

    def _row(self, what: str, figure: str, target: str, ok: bool) -> None:
        mark = ("ok" if ok else "MISSED") if target else ""
        self.stdout.write(f"  {what:<28} {figure:<44} {('target ' + target) if target else '':<16} {mark}")


def _figures(seconds: list[float]) -> str:
    milliseconds = sorted(value * 1000 for value in seconds)
    return f"median {statistics.median(milliseconds):.0f} ms, max {milliseconds[-1]:.0f} ms (n={len(milliseconds)})"
