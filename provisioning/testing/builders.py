"""Test builders of provisioning: an adapter-ready descriptor with the components a test names, a stable release of
it (rows only: no catalog, no Git), and the registry rows of the built-in adapters at a live server's address."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

from dataproducts.choices import ReleaseKind
from dataproducts.models import DataProductIdentity, Release
from provisioning.adapters.views import SECRET_HEADER
from provisioning.models import TechAdapter

MOCK_TEMPLATE = "urn:dmb:itm:mock:1"
POSTGRES_TEMPLATE = "urn:dmb:itm:postgres:1"
_COLUMNS = [
    {"name": "id", "dataType": "VARCHAR", "dataLength": 36, "constraint": "PRIMARY_KEY", "tags": []},
    {"name": "amount", "dataType": "DECIMAL", "precision": 12, "scale": 2, "tags": []},
]


def descriptor_make(
    *, domain: str = "finance", name: str = "ledger", major: int = 0, components: Iterable[Mapping] = ()
) -> dict:
    """A data product descriptor that passes the strict adapter-ready check. Each component is
    ``{name, kind?, depends_on?, specific?, template?, columns?}`` (kind ``outputport``, template the mock's)."""
    dp_id = f"urn:dmb:dp:{domain}:{name}:{major}"
    parts = []
    for spec in components:
        kind = spec.get("kind", "outputport")
        component = {
            "kind": kind,
            "id": f"urn:dmb:cmp:{domain}:{name}:{major}:{spec['name']}",
            "name": spec["name"],
            "fullyQualifiedName": spec["name"],
            "description": f"The {spec['name']} {kind}",
            "version": f"{major}.1.0",
            "infrastructureTemplateId": spec.get("template", MOCK_TEMPLATE),
            "useCaseTemplateId": f"urn:dmb:utm:{kind}-template:0.0.0",
            "dependsOn": [f"urn:dmb:cmp:{domain}:{name}:{major}:{d}" for d in spec.get("depends_on", [])],
            "platform": "PostgreSQL",
            "technology": "PostgreSQL",
            "tags": [],
            "specific": copy.deepcopy(dict(spec.get("specific") or {})),
        }
        if kind == "outputport":
            component |= {
                "outputPortType": "SQL",
                "semanticLinking": [],
                "dataContract": {"schema": copy.deepcopy(list(spec.get("columns", _COLUMNS)))},
            }
        elif kind == "workload":
            component |= {"connectionType": "HOUSEKEEPING", "readsFrom": []}
        elif kind == "storage":
            component["StorageType"] = "Database"
        parts.append(component)
    return {
        "id": dp_id,
        "name": name,
        "fullyQualifiedName": name.title(),
        "description": f"The {name} data product",
        "kind": "dataproduct",
        "domain": domain,
        "version": f"{major}.1.0",
        "environment": "development",
        "dataProductOwner": "user:alice",
        "dataProductOwnerDisplayName": "Alice",
        "email": "alice@example.com",
        "ownerGroup": "group:finance",
        "devGroup": "group:finance",
        "informationSLA": "2BD",
        "maturity": "Tactical",
        "billing": {},
        "tags": [],
        "specific": {},
        "domainId": f"urn:dmb:dmn:{domain}",
        "useCaseTemplateId": "urn:dmb:utm:dataproduct-template:0.0.0",
        "infrastructureTemplateId": "urn:dmb:itm:dataproduct-provisioner:1",
        "components": parts,
    }


def release_make(descriptor: Mapping, *, version: str = "0.1.0", environments: Iterable[str] | None = None) -> Release:
    """A stable release of ``descriptor`` for every environment (rows only)."""
    from django.conf import settings

    major, minor, patch = (int(part) for part in version.split("."))
    dp_id = descriptor["id"]
    entity_name = ".".join(dp_id.split(":")[3:6])
    product, _ = DataProductIdentity.objects.get_or_create(dp_id=dp_id, defaults={"entity_name": entity_name})
    environments = list(environments or settings.MESHFORGE_ENVIRONMENTS)
    return Release.objects.create(
        product=product,
        version=version,
        kind=ReleaseKind.STABLE,
        major=major,
        minor=minor,
        patch=patch,
        descriptors={environment: {**descriptor, "environment": environment} for environment in environments},
        commit="0" * 40,
    )


def builtin_adapters_register(
    base_url: str, *, environments: Iterable[str] | None = None, **fields
) -> dict[str, TechAdapter]:
    """Registry rows for the built-in ``mock`` and ``postgres`` adapters at ``base_url`` (a live server's)."""
    from django.conf import settings

    rows = {}
    for environment in environments or settings.MESHFORGE_ENVIRONMENTS:
        for name, template in (("mock", MOCK_TEMPLATE), ("postgres", POSTGRES_TEMPLATE)):
            rows[(name, environment)], _ = TechAdapter.objects.update_or_create(
                infrastructure_template_id=template,
                environment=environment,
                defaults={
                    "url": f"{base_url.rstrip('/')}/tech-adapters/{name}",
                    "auth_header": SECRET_HEADER,
                    "auth_env": "MESHFORGE_ADAPTER_SECRET",
                    "builtin": name,
                    "poll_interval": 0.1,
                    **fields,
                },
            )
    return rows
