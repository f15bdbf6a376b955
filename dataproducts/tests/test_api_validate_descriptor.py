"""``POST /api/dataproducts/validate-descriptor`` (PRODUCT §4.3, §11): a descriptor sent as JSON or YAML text gets
200 ``{valid, errors}``; a malformed request gets 400 naming the field, never a 500.

The view is mounted here under the path the project's URLconf gives it (``dataproducts-api:validate_descriptor``),
so these tests do not depend on the rest of the API being importable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import include, path, reverse

from core.yaml import load
from dataproducts.api.descriptor import DescriptorValidateView

urlpatterns = [
    path(
        "api/dataproducts/",
        include(
            (
                [path("validate-descriptor", DescriptorValidateView.as_view(), name="validate_descriptor")],
                "dataproducts-api",
            )
        ),
    )
]
pytestmark = pytest.mark.urls(__name__)

FIXTURES = Path(settings.BASE_DIR) / "tests" / "data" / "witboost"
DESCRIPTOR_FIXTURES = [
    "dps-example.yaml",
    "scaffold-data_product_valid.yaml",
    "scaffold-descriptor_output_port_valid.yaml",
    "scaffold-descriptor_storage_valid.yaml",
]


def fixture(name: str) -> dict:
    return load((FIXTURES / name).read_text(), source=name)


@pytest.fixture
def post(api_client, carol):
    """POST a body as JSON, signed in as carol: any signed-in user may validate, team or not."""
    api_client.force_login(carol)
    return lambda body: api_client.post(reverse("dataproducts-api:validate_descriptor"), body, format="json")


def test_the_view_answers_at_the_documented_path():
    assert reverse("dataproducts-api:validate_descriptor") == "/api/dataproducts/validate-descriptor"


@pytest.mark.parametrize("name", DESCRIPTOR_FIXTURES)
def test_every_descriptor_fixture_sent_as_json_is_valid(post, name):
    response = post({"descriptor": fixture(name)})
    assert response.status_code == 200
    assert response.json() == {"valid": True, "errors": []}


@pytest.mark.parametrize("name", DESCRIPTOR_FIXTURES)
def test_every_descriptor_fixture_sent_as_yaml_text_is_valid(post, name):
    response = post({"yaml": (FIXTURES / name).read_text()})
    assert response.status_code == 200
    assert response.json() == {"valid": True, "errors": []}


def test_an_invalid_descriptor_is_a_200_listing_every_problem_with_its_path(post):
    descriptor = fixture("dps-example.yaml")
    descriptor["version"] = "1.0"
    descriptor["components"][1]["dependsOn"] = ["urn:dmb:cmp:my_domain:my_data_product:1:nowhere"]
    response = post({"descriptor": descriptor})
    assert response.status_code == 200
    assert response.json() == {
        "valid": False,
        "errors": [
            'version: "1.0" is not valid; expected <major>.<minor>.<patch> such as 1.2.0, '
            "or a draft <major>.<minor>-SNAPSHOT-<n>",
            'components[1].dependsOn[0]: "urn:dmb:cmp:my_domain:my_data_product:1:nowhere" names no component of '
            "this data product",
        ],
    }


def test_a_wrapper_in_yaml_whose_target_is_missing_is_invalid(post):
    text = (FIXTURES / "scaffold-descriptor_storage_valid.yaml").read_text()
    text = text.replace(
        "componentIdToProvision: urn:dmb:cmp:healthcare:vaccinations:0:snowflake-storage",
        "componentIdToProvision: urn:dmb:cmp:healthcare:vaccinations:0:gone",
    )
    response = post({"yaml": text})
    assert response.status_code == 200
    assert response.json()["errors"] == [
        'componentIdToProvision: "urn:dmb:cmp:healthcare:vaccinations:0:gone" names no component of '
        "dataProduct.components"
    ]


@pytest.mark.parametrize(
    ("descriptor", "error"),
    [
        ([], "descriptor: must be an object, not a list"),
        (None, "descriptor: must be an object, not null"),
        ("urn:dmb:dp:a:b:1", "descriptor: must be an object, not a string"),
    ],
)
def test_a_descriptor_that_is_not_an_object_is_invalid_not_an_error(post, descriptor, error):
    response = post({"descriptor": descriptor})
    assert response.status_code == 200
    assert response.json() == {"valid": False, "errors": [error]}


def test_a_request_without_a_descriptor_is_a_400_naming_the_field(post):
    response = post({"document": {}})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["descriptor"]


def test_a_request_with_both_forms_is_a_400(post):
    response = post({"descriptor": {}, "yaml": "{}"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["yaml"]


def test_yaml_that_does_not_parse_is_a_400_naming_yaml_and_the_line(post):
    response = post({"yaml": "id: urn:dmb:dp:a:b:1\nspecific: {database: cash\ncomponents: []\n"})
    assert response.status_code == 400
    assert response.json()["errors"]["yaml"] == [
        "yaml:3:11: did not find expected ',' or '}' (while parsing a flow mapping at line 2, column 11)"
    ]


def test_yaml_with_duplicate_keys_is_refused(post):
    response = post({"yaml": "id: a\nid: b\n"})
    assert response.status_code == 400
    assert "yaml" in response.json()["errors"]


def test_yaml_that_is_not_a_string_is_a_400(post):
    response = post({"yaml": {"id": "x"}})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["yaml"]


def test_a_body_that_is_not_an_object_is_a_400(post):
    response = post([{"descriptor": {}}])
    assert response.status_code == 400


def test_absurdly_nested_json_is_answered_without_a_server_error(api_client, carol):
    api_client.force_login(carol)
    body = '{"descriptor": ' + "[" * 5000 + "]" * 5000 + "}"
    response = api_client.post(reverse("dataproducts-api:validate_descriptor"), body, content_type="application/json")
    assert response.status_code == 400


def test_deeply_nested_json_within_the_parser_limit_is_validated(post):
    descriptor = fixture("dps-example.yaml")
    column: dict = {"name": "leaf", "dataType": "STRING"}
    for level in range(200):
        column = {"name": f"level{level}", "dataType": "STRUCT", "children": [column]}
    descriptor["components"][1]["dataContract"]["schema"] = [column]
    response = post({"descriptor": descriptor})
    assert response.status_code == 200
    assert response.json()["errors"][0].endswith("nests columns deeper than 32 levels")


def test_anonymous_requests_are_refused(api_client, db):
    response = api_client.post(reverse("dataproducts-api:validate_descriptor"), {"descriptor": {}}, format="json")
    assert response.status_code == 401


def test_the_endpoint_adds_no_openapi_warnings(tmp_path, db):
    target = tmp_path / "schema.json"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--urlconf",
        __name__,
        "--format",
        "openapi-json",
        "--file",
        str(target),
    )
    operation = json.loads(target.read_text())["paths"]["/api/dataproducts/validate-descriptor"]["post"]
    assert operation["operationId"] == "dataproducts_validate_descriptor"
    assert set(operation["responses"]) == {"200", "400", "401"}


def test_adapter_ready_applies_what_the_tech_adapters_require(post):
    """The DPS example is a valid descriptor, but not one the Witboost tech adapters accept."""
    lenient = post({"descriptor": fixture("dps-example.yaml")})
    strict = post({"descriptor": fixture("dps-example.yaml"), "adapterReady": True})
    assert lenient.json() == {"valid": True, "errors": []}
    assert strict.status_code == 200
    assert strict.json()["valid"] is False
    assert "components[2].dependsOn: is required" in strict.json()["errors"]


@pytest.mark.parametrize("name", DESCRIPTOR_FIXTURES[1:])
def test_adapter_ready_accepts_the_scaffolds_descriptors(post, name):
    response = post({"yaml": (FIXTURES / name).read_text(), "adapterReady": True})
    assert response.json() == {"valid": True, "errors": []}


def test_adapter_ready_that_is_not_a_boolean_is_a_400_naming_the_field(post):
    response = post({"descriptor": fixture("dps-example.yaml"), "adapterReady": "sometimes"})
    assert response.status_code == 400
    assert "adapterReady" in json.dumps(response.json())
