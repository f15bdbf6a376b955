"""The API fuzzed from its own OpenAPI document (``/api/schema/``): schemathesis sends generated requests, valid and
invalid, to every operation and every method, as people without staff rights, on the test database; every answer must
be no server error and exactly what the document says (its status documented, its body and headers of the documented
shape).

Two passes: bob (marketing) against an empty catalog, every parameter generated; and alice (finance) in the world of
``tests/world.py``, where half of the path parameters name its real objects (her data product, component, location,
orphan, refresh, deployment; the world's adapter), so that the fuzzing reaches past the 404s into the reads and writes
of real objects.

Bounded and repeatable: a fixed number of examples per operation, derandomized, no example database. A URL that a
generated request carries stays on this machine: the test settings allow only 127.0.0.1."""

from __future__ import annotations

import json
import os

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.services import api_token_create
from tests.authz import GitSnapshot

# Enough to find what the fuzzing found so far within make test's time; MESHFORGE_FUZZ_EXAMPLES=100 digs deeper.
MAX_EXAMPLES = int(os.environ.get("MESHFORGE_FUZZ_EXAMPLES", "6"))
HYPOTHESIS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
GENERATION = {"max-examples": MAX_EXAMPLES, "deterministic": True}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
APP = get_wsgi_application()

# The document /api/schema/ serves, generated here so that each operation is a test of its own;
# test_the_fuzzed_document_is_the_one_the_api_serves keeps the two the same.
DOCUMENT = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict({"generation": GENERATION, "phases": {"stateful": {"enabled": False}}}),
)
schema.app = APP


@pytest.fixture
def wsgi_in_test_transaction():
    """Requests go through the WSGI handler within the test's transaction: as Django's test client does, keep the
    handler from closing the database connection at the start and end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _call_and_validate(case, headers: dict[str, str], repositories: GitSnapshot | None = None) -> None:
    """One example in a savepoint rolled back afterwards, its Git commits undone: what it deletes or changes, the
    next example still has."""
    try:
        with transaction.atomic():
            case.call_and_validate(headers=headers, checks=CHECKS)
            transaction.set_rollback(True)
    finally:
        if repositories is not None:
            repositories.restore()


def _bearer(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token_create(user=user, name='fuzzing', actor=user)[1]}"}


@pytest.fixture
def bob_headers(bob) -> dict[str, str]:
    return _bearer(bob)


def test_the_fuzzed_document_is_the_one_the_api_serves(api_client, carol):
    api_client.force_authenticate(carol)
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert json.loads(response.content) == DOCUMENT


# The operations on a path with parameters are fuzzed in alice's world below, where a generated name finds nothing
# (as on an empty catalog) half of the time and a real object the other half; bob takes the rest.
@schema.exclude(path_regex=r"\{").parametrize()
@HYPOTHESIS
def test_the_api_answers_bob_as_its_document_says(case, bob_headers, wsgi_in_test_transaction):
    _call_and_validate(case, bob_headers)


# --- In the world: path parameters name real objects half of the time -------------------------------------------


def _world_config(world) -> schemathesis.Config:
    def sometimes(name: str) -> dict:
        return {"dictionary": name, "probability": 0.5}

    dp, component = world.data_product, world.component
    dictionaries = {
        "data_product": [dp.name],
        "component": [component.name],
        "domain": [world.domain.name, "marketing"],
        "location": [world.location.pk],
        "refresh": [world.refresh.pk],
        "uid": [str(world.orphan.uid), str(world.entity.uid)],
        "kind": ["component", "system"],
        "namespace": ["default"],
        "entity": [world.entity.name, dp.name],
        "deployment": [world.deployment.pk],
        "adapter": [world.adapter.pk],
        "reverse_provisioning": [world.reverse_provisioning.pk],
    }
    operations = [
        ("^/api/dataproducts/data-products/", {"path.name": sometimes("data_product")}),
        ("^/api/dataproducts/components/", {"path.name": sometimes("component")}),
        ("^/api/dataproducts/domains/", {"path.name": sometimes("domain")}),
        ("^/api/catalog/locations/", {"path.id": sometimes("location")}),
        ("^/api/catalog/refresh-requests/", {"path.id": sometimes("refresh")}),
        ("^/api/provisioning/deployments/", {"path.id": sometimes("deployment")}),
        ("^/api/provisioning/adapters/", {"path.id": sometimes("adapter")}),
        ("^/api/catalog/entities/by-uid/", {"path.uid": sometimes("uid")}),
        ("^/api/provisioning/reverse-provisioning/", {"path.id": sometimes("reverse_provisioning")}),
        (
            "^/api/catalog/entities/by-name/",
            {
                "path.kind": sometimes("kind"),
                "path.namespace": sometimes("namespace"),
                "path.name": sometimes("entity"),
            },
        ),
    ]
    return schemathesis.Config.from_dict(
        {
            "generation": GENERATION,
            "phases": {"stateful": {"enabled": False}},
            "dictionaries": {name: {"values": values} for name, values in dictionaries.items()},
            "operations": [{"include-path-regex": path, "parameters": parameters} for path, parameters in operations],
        }
    )


@pytest.fixture
def alice_headers(alice) -> dict[str, str]:
    return _bearer(alice)


@pytest.fixture
def repositories(world, tmp_path) -> GitSnapshot:
    return GitSnapshot(tmp_path / "world", keep=tmp_path / "pristine")


@pytest.fixture
def world_schema(request, world, alice_headers, wsgi_in_test_transaction):
    """The document as /api/schema/ serves it to alice, fuzzed with the world's objects."""
    # schemathesis' lazy schemas read the node id under the name pytest 8 kept it under
    request.node._nodeid = request.node.nodeid
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", APP, config=_world_config(world), headers=alice_headers
    )


lazy_schema = schemathesis.pytest.from_fixture("world_schema").include(path_regex=r"\{")


@lazy_schema.parametrize()
@HYPOTHESIS
def test_the_api_answers_alice_about_real_objects_as_its_document_says(case, alice_headers, repositories):
    _call_and_validate(case, alice_headers, repositories)
