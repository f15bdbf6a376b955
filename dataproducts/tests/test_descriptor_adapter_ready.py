"""Writing is strict (PRODUCT §4.3, issue 11): ``descriptor_adapter_problems`` reports, path by path, what the public
Witboost tech adapters' models would refuse; the reading of real descriptors stays lenient; ``validate_descriptor
--adapter-ready`` and the Descriptor tab apply the strict check, and a product without components is "incomplete",
not invalid."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from jsonschema import Draft202012Validator

from core.yaml import dump, load
from dataproducts.descriptor.adapter import ADAPTER_SCHEMA_PATH, descriptor_adapter_problems, descriptor_adapter_verdict
from dataproducts.descriptor.validate import component_descriptor_validate, descriptor_validate

FIXTURES = Path(settings.BASE_DIR) / "tests" / "data" / "witboost"
SCAFFOLD_FIXTURES = [
    "scaffold-data_product_valid.yaml",
    "scaffold-descriptor_output_port_valid.yaml",
    "scaffold-descriptor_storage_valid.yaml",
]
STORAGE, PORT = 0, 1  # the components of the scaffold's data product


def fixture(name: str) -> dict:
    return load((FIXTURES / name).read_text(), source=name)


def scaffold() -> dict:
    """The scaffold's own data product: what the adapters accept, to be broken one field at a time."""
    return fixture("scaffold-data_product_valid.yaml")


def workload() -> dict:
    """A workload of the scaffold's data product, as the built-in template writes one."""
    return {
        "id": "urn:dmb:cmp:healthcare:vaccinations:0:load",
        "name": "Load",
        "description": "Loads the vaccinations",
        "kind": "workload",
        "version": "0.0.0",
        "infrastructureTemplateId": "urn:dmb:itm:postgres:1",
        "useCaseTemplateId": "urn:dmb:utm:postgres-workload-template:0.0.0",
        "dependsOn": [],
        "connectionType": "DataPipeline",
        "tags": [],
        "readsFrom": [],
        "specific": {},
    }


# --- the schema and the fixtures ----------------------------------------------------------------------------


def test_the_schema_is_a_valid_draft_2020_12_schema_naming_the_models_it_was_read_from():
    schema = json.loads(ADAPTER_SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "witboost-python-scaffold" in schema["$comment"] and "data_product_descriptor.py" in schema["$comment"]


@pytest.mark.parametrize("name", SCAFFOLD_FIXTURES)
def test_the_scaffolds_own_descriptors_are_adapter_ready(name):
    assert descriptor_adapter_problems(fixture(name)) == []


def test_every_real_descriptor_of_the_fixtures_still_passes_the_lenient_reading():
    """The repository's copies of the shared fixtures (tests/data/witboost), so that a clean clone runs it."""
    names = [path.name for path in sorted(FIXTURES.glob("*.yaml")) if "api" not in path.name]
    assert len(names) == 4
    for name in names:
        assert component_descriptor_validate(load((FIXTURES / name).read_text(), source=name)) == [], name


def test_the_dps_example_is_readable_but_not_what_the_adapters_accept():
    """The specification's example is a valid DPS descriptor, but the adapters refuse it, each for a reason."""
    problems = descriptor_adapter_problems(fixture("dps-example.yaml"))
    assert descriptor_validate(fixture("dps-example.yaml")) == []
    assert "components[0].semanticLinking: must be a list, not an object" in problems
    assert 'components[1].kind: "outputPort" is not valid; expected one of outputport, workload, storage, ' in (
        "\n".join(problems)
    )
    assert "components[2].dependsOn: is required" in problems
    assert "components[3].dataQuality: must be an object, not null" in problems
    assert any(problem.startswith('components[0].tags[0].source: "Tag" is not valid') for problem in problems)


# --- path-precise messages ----------------------------------------------------------------------------------


def broken(mutate) -> list[str]:
    descriptor = scaffold()
    mutate(descriptor)
    return descriptor_adapter_problems(descriptor)


def test_an_output_port_needs_a_semantic_linking_list():
    assert broken(lambda d: d["components"][PORT].pop("semanticLinking")) == [
        "components[1].semanticLinking: is required"
    ]


def test_a_varchar_column_needs_its_length_named_by_type():
    def varchar(descriptor):
        descriptor["components"][PORT]["dataContract"]["schema"][2] = {"name": "code", "dataType": "varchar"}

    assert broken(varchar) == ["components[1].dataContract.schema[2].dataLength: required for VARCHAR"]


def test_column_sizes_are_whole_numbers_and_a_scale_fits_its_precision():
    def sizes(descriptor):
        schema = descriptor["components"][PORT]["dataContract"]["schema"]
        schema[2] |= {"precision": 4, "scale": 6}
        schema[3] |= {"precision": None, "scale": 2}
        schema[4] |= {"precision": "38"}
        schema[1] |= {"dataLength": 0}

    assert broken(sizes) == [
        "components[1].dataContract.schema[1].dataLength: must be at least 1, not 0",
        "components[1].dataContract.schema[2].scale: 6 is more than the precision 4",
        "components[1].dataContract.schema[3].scale: needs a precision (the total number of digits)",
        "components[1].dataContract.schema[4].precision: must be a whole number or null, not a string",
    ]


def test_a_data_type_the_adapters_do_not_know_is_refused():
    def geometry(descriptor):
        descriptor["components"][PORT]["dataContract"]["schema"][0]["dataType"] = "HSTORE"

    [problem] = broken(geometry)
    assert problem.startswith('components[1].dataContract.schema[0].dataType: "HSTORE" is not valid; expected an ')


def test_every_component_needs_a_use_case_template_id():
    assert broken(lambda d: d["components"][STORAGE].pop("useCaseTemplateId")) == [
        "components[0].useCaseTemplateId: is required"
    ]


def test_a_workload_needs_a_connection_type_from_the_adapters_list():
    def no_connection(descriptor):
        descriptor["components"].append(workload())
        del descriptor["components"][-1]["connectionType"]

    def streaming(descriptor):
        descriptor["components"].append(workload() | {"connectionType": "streaming"})

    assert broken(no_connection) == ["components[2].connectionType: is required"]
    assert broken(streaming) == [
        'components[2].connectionType: "streaming" is not valid; expected one of HOUSEKEEPING, DATAPIPELINE (any case)'
    ]
    assert broken(lambda d: d["components"].append(workload() | {"connectionType": "housekeeping"})) == []


def test_tags_are_tag_labels_with_a_source_the_adapters_know():
    def plain(descriptor):
        descriptor["tags"] = ["finance"]

    def spec_source(descriptor):
        descriptor["tags"] = [{"tagFQN": "finance", "source": "Tag", "labelType": "Manual", "state": "Confirmed"}]

    assert "tags[0]: must be an object, not a string" in broken(plain)
    assert broken(spec_source)[0].startswith('tags[0].source: "Tag" is not valid; expected one of Classification')


def test_the_data_product_needs_its_groups_and_tags():
    def bare(descriptor):
        del descriptor["devGroup"], descriptor["tags"]

    assert broken(bare) == ["devGroup: is required", "tags: is required"]


def test_a_component_descriptor_payload_reports_paths_under_data_product():
    payload = {"dataProduct": scaffold(), "componentIdToProvision": "urn:dmb:cmp:healthcare:vaccinations:0:nothing"}
    del payload["dataProduct"]["components"][PORT]["outputPortType"]
    assert descriptor_adapter_problems(payload) == [
        "dataProduct.components[1].outputPortType: is required",
        'componentIdToProvision: "urn:dmb:cmp:healthcare:vaccinations:0:nothing" names no component of '
        "dataProduct.components",
    ]


@pytest.mark.parametrize("document", [None, [], "text", {"components": "none"}])
def test_any_input_gets_problems_never_an_exception(document):
    assert descriptor_adapter_problems(document)


# --- the verdict ------------------------------------------------------------------------------------------------


def test_the_verdict_is_valid_incomplete_or_invalid():
    without_components = scaffold() | {"components": []}
    assert descriptor_adapter_verdict(scaffold()).state == "valid"
    assert descriptor_adapter_verdict(without_components) == descriptor_adapter_verdict(without_components)
    assert descriptor_adapter_verdict(without_components).state == "incomplete"
    assert descriptor_adapter_verdict(without_components).problems == ()
    other = descriptor_adapter_verdict(without_components, other_problems=["environments/qa: cannot be read"])
    assert other.state == "invalid"
    broken_one = copy.deepcopy(without_components)
    del broken_one["devGroup"]
    assert descriptor_adapter_verdict(broken_one).problems == (
        "devGroup: is required",
        "components: must list at least one component",
    )


def test_a_new_product_reads_incomplete_in_a_neutral_style(client, alice, create_dp):
    data_product = create_dp(alice)
    client.force_login(alice)
    url = reverse("dp:dataproduct_detail", args=[data_product.name]) + "?tab=descriptor"

    content = client.get(url).content.decode()

    assert '<span class="badge badge-neutral">incomplete</span> Incomplete: add a component' in content
    assert "badge-error" not in content and "must list at least one component" not in content


def test_a_product_with_a_built_in_component_is_valid_on_the_tab(client, alice, create_dp, add_component):
    data_product = create_dp(alice)
    add_component(data_product, alice, "template:storage", name="ledger", title="Ledger", description="The ledger")
    client.force_login(alice)
    url = reverse("dp:dataproduct_detail", args=[data_product.name]) + "?tab=descriptor&env=qa"

    content = client.get(url).content.decode()

    assert "Valid for qa." in content and "badge-error" not in content


# --- the command -----------------------------------------------------------------------------------------------


def run(*arguments: str) -> str:
    out = io.StringIO()
    call_command("validate_descriptor", *arguments, stdout=out)
    return out.getvalue()


def test_the_command_flag_applies_the_strict_check(tmp_path):
    path = tmp_path / "port.yaml"
    document = fixture("scaffold-descriptor_output_port_valid.yaml")
    del document["dataProduct"]["components"][PORT]["semanticLinking"]
    path.write_text(dump(document))

    assert run(str(path)) == f"{path}: valid\n"
    with pytest.raises(CommandError) as raised:
        run("--adapter-ready", str(path))
    assert raised.value.returncode == 1


def test_the_command_flag_prints_each_problem_with_its_path(tmp_path, capsys):
    path = tmp_path / "example.yaml"
    path.write_text((FIXTURES / "dps-example.yaml").read_text())
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("validate_descriptor", "--adapter-ready", str(path), stdout=out)
    assert f"{path}: components[2].dependsOn: is required\n" in out.getvalue()


def test_the_command_flag_accepts_the_scaffold_fixtures():
    assert run("--adapter-ready", *(str(FIXTURES / name) for name in SCAFFOLD_FIXTURES)).count(": valid\n") == 3
