"""The HTTP side of the built-in adapters (``/tech-adapters/<name>/``): the shared secret, requests checked with
400s that name the field, the mock's answers (sync, async with a token, failure on demand), and the odd answers of
the API (an unknown token, reverse provisioning without catalogInfo), as the OpenAPI file and real adapters give
them."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.urls import reverse

from core import yaml
from provisioning.adapters.views import SECRET_HEADER
from provisioning.client import provisioning_request
from provisioning.models import AdapterCall
from provisioning.testing.builders import descriptor_make

pytestmark = pytest.mark.django_db


def _post(client, name: str, operation: str, body, *, secret: bool = True):
    headers = {SECRET_HEADER: settings.MESHFORGE_ADAPTER_SECRET} if secret else {}
    return client.post(
        reverse(f"adapter_{operation}", kwargs={"name": name}),
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def _request(**mock_flags) -> dict:
    specific = {"mock": mock_flags} if mock_flags else {}
    descriptor = descriptor_make(components=[{"name": "port", "specific": specific}])
    return provisioning_request(descriptor=descriptor, component_id=descriptor["components"][0]["id"])


def test_without_the_secret_nobody_is_answered(client, platform_user):
    client.force_login(platform_user)  # staff included: a session is not the adapter secret
    response = _post(client, "mock", "updateacl", {"refs": ["user:carol"], "provisionInfo": {}}, secret=False)
    assert response.status_code == 401
    assert response.json()["userMessage"] == "missing or wrong adapter secret"
    assert not AdapterCall.objects.exists()


def test_a_wrong_secret_is_refused(client):
    response = client.post(
        reverse("adapter_provision", kwargs={"name": "mock"}),
        data="{}",
        content_type="application/json",
        headers={SECRET_HEADER: "guess"},
    )
    assert response.status_code == 401


def test_an_unknown_adapter_is_not_found(client):
    assert _post(client, "nowhere", "provision", {}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("not json", "body"),
        ([], "body"),
        ({"descriptorKind": "SOMETHING", "descriptor": "a: 1"}, "descriptorKind"),
        ({"descriptorKind": "COMPONENT_DESCRIPTOR", "descriptor": "a: [unclosed"}, "descriptor"),
        ({"descriptorKind": "COMPONENT_DESCRIPTOR", "descriptor": "- a list"}, "descriptor"),
        (
            {"descriptorKind": "COMPONENT_DESCRIPTOR", "descriptor": "dataProduct: {}"},
            "descriptor.componentIdToProvision",
        ),
        (
            {
                "descriptorKind": "COMPONENT_DESCRIPTOR",
                "descriptor": "dataProduct: {components: []}\ncomponentIdToProvision: x",
            },
            "descriptor.componentIdToProvision",
        ),
        ({**_request(), "removeData": "yes"}, "removeData"),
    ],
)
def test_a_bad_request_is_a_400_naming_the_field(client, body, field):
    response = _post(client, "mock", "provision", body)
    assert response.status_code == 400
    answer = response.json()
    assert answer["inputErrorField"] == field
    assert answer["errors"] and answer["userMessage"] and answer["moreInfo"]["problems"]


def test_the_mock_provisions_and_counts_each_call(client):
    response = _post(client, "mock", "provision", _request())
    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] == "COMPLETED"
    assert answer["info"]["publicInfo"]["endpoint"]["value"].startswith("mock://urn:dmb:cmp:")
    assert AdapterCall.objects.filter(operation="provision").count() == 1


def test_the_mock_answers_async_with_a_token_it_polls_to_the_end(client):
    response = _post(client, "mock", "provision", _request(**{"async": True}))
    assert response.status_code == 202
    token = response.json()
    assert isinstance(token, str) and token
    status = client.get(
        reverse("adapter_provision_status", kwargs={"name": "mock", "token": token}),
        headers={SECRET_HEADER: settings.MESHFORGE_ADAPTER_SECRET},
    )
    assert status.status_code == 200 and status.json()["status"] == "COMPLETED"


def test_an_unknown_token_is_the_500_real_adapters_give(client):
    status = client.get(
        reverse("adapter_provision_status", kwargs={"name": "mock", "token": "forgotten"}),
        headers={SECRET_HEADER: settings.MESHFORGE_ADAPTER_SECRET},
    )
    assert status.status_code == 500
    assert "Cannot find Provisioning Status" in status.json()["error"]


def test_the_mock_fails_on_demand_with_the_message(client):
    response = _post(client, "mock", "provision", _request(fail=True, message="no quota left"))
    assert response.status_code == 400
    assert response.json()["userMessage"] == "no quota left"
    validation = _post(client, "mock", "validate", _request(fail="validate", message="bad partition"))
    assert validation.json() == {"valid": False, "error": {"errors": ["bad partition"]}}


def test_async_validation_answers_a_token_then_the_result(client):
    response = _post(client, "mock", "validate_async", _request())
    assert response.status_code == 202
    status = client.get(
        reverse("adapter_validate_status", kwargs={"name": "mock", "token": response.json()}),
        headers={SECRET_HEADER: settings.MESHFORGE_ADAPTER_SECRET},
    )
    assert status.json()["status"] == "COMPLETED"


def test_updateacl_reads_the_component_from_the_provision_info(client):
    request = _request()
    body = {"refs": ["user:carol", "group:finance"], "provisionInfo": {"request": request["descriptor"], "result": ""}}
    response = _post(client, "mock", "updateacl", body)
    assert response.status_code == 200
    assert response.json()["result"] == "access for user:carol, group:finance"
    call = AdapterCall.objects.get(operation="updateacl")
    assert call.component_id == yaml.load(request["descriptor"])["componentIdToProvision"]


def test_updateacl_refuses_refs_that_are_not_strings(client):
    response = _post(client, "mock", "updateacl", {"refs": [1], "provisionInfo": {}})
    assert response.status_code == 400 and response.json()["inputErrorField"] == "refs"


def test_reverse_provisioning_without_catalog_info_is_a_422(client):
    response = _post(client, "mock", "reverse_provisioning", {"useCaseTemplateId": "x", "environment": "development"})
    assert response.status_code == 422
    assert response.json()["inputErrorField"] == "catalogInfo"
