"""Assembly of the DPS descriptor from a data product's catalog documents (PRODUCT §3.3, §4.3): derived fields,
environment configuration deep-merged into ``specific``, stable order, untouched inputs; and the environments
setting the descriptor is built for."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from dataproducts.descriptor.build import descriptor_build
from dataproducts.descriptor.validate import descriptor_validate

PROJECT_ROOT = Path(settings.BASE_DIR)


def system(**mesh_overrides) -> dict:
    """The System of PRODUCT §3.3's example, processed (namespace defaulted)."""
    mesh = {
        "name": "Cash flow",
        "fullyQualifiedName": "Finance - Cash flow - v0",
        "version": "0.0.0",
        "dataProductOwner": "user:alice",
        "devGroup": "group:finance",
        "maturity": "Strategic",
        "tags": [],
        "specific": {},
        **mesh_overrides,
    }
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "System",
        "metadata": {
            "name": "finance.cashflow.0",
            "namespace": "default",
            "title": "Cash flow",
            "description": "Operating cash flows",
            "tags": ["finance"],
        },
        "spec": {
            "type": "dataproduct",
            "lifecycle": "experimental",
            "owner": "group:finance",
            "domain": "domain:finance",
            "mesh": mesh,
        },
    }


def output_port() -> dict:
    """The output port of PRODUCT §3.3's example."""
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {
            "name": "finance.cashflow.0.daily-balances",
            "namespace": "default",
            "description": "Balances per account per day",
        },
        "spec": {
            "type": "outputport",
            "lifecycle": "experimental",
            "owner": "group:finance",
            "system": "system:finance.cashflow.0",
            "mesh": {
                "name": "Daily balances",
                "kind": "outputport",
                "version": "0.0.0",
                "infrastructureTemplateId": "urn:dmb:itm:postgres:1",
                "useCaseTemplateId": "urn:dmb:utm:postgres-outputport:0.0.0",
                "dependsOn": ["urn:dmb:cmp:finance:cashflow:0:ledger"],
                "dataContract": {
                    "schema": [
                        {"name": "day", "dataType": "DATE", "constraint": "PRIMARY_KEY"},
                        {"name": "balance", "dataType": "DECIMAL"},
                    ],
                    "termsAndConditions": "Internal use only",
                },
                "readsFrom": ["urn:dmb:cmp:sales:orders:1:orders-view"],
            },
        },
    }


def storage(**mesh_overrides) -> dict:
    """The storage component ``ledger`` that §3.3's output port depends on, with the least a file may say."""
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "finance.cashflow.0.ledger", "namespace": "default", "description": "The ledger"},
        "spec": {
            "type": "storage",
            "lifecycle": "experimental",
            "owner": "group:finance",
            "system": "system:finance.cashflow.0",
            "mesh": {"version": "0.0.0", "infrastructureTemplateId": "urn:dmb:itm:postgres:1", **mesh_overrides},
        },
    }


def build(**overrides) -> dict:
    arguments = {"system": system(), "components": [output_port(), storage()], "environment": "development"}
    return descriptor_build(**{**arguments, **overrides})


# --- derived fields -------------------------------------------------------------------------------------------


def test_the_data_product_fields_come_from_spec_mesh_with_derived_ones_filled_in():
    descriptor = build()
    del descriptor["components"]
    assert descriptor == {
        "id": "urn:dmb:dp:finance:cashflow:0",
        "name": "Cash flow",
        "fullyQualifiedName": "Finance - Cash flow - v0",
        "description": "Operating cash flows",
        "kind": "dataproduct",
        "domain": "finance",
        "version": "0.0.0",
        "environment": "development",
        "dataProductOwner": "user:alice",
        "ownerGroup": "finance",
        "devGroup": "finance",
        "maturity": "Strategic",
        "tags": [{"tagFQN": "finance", "source": "Classification", "labelType": "Manual", "state": "Confirmed"}],
        "specific": {},
    }


def test_the_descriptor_lists_the_specification_fields_first_in_their_order():
    descriptor = build(system=system(useCaseTemplateId="urn:dmb:utm:dataproduct:0.0.0", informationSLA="2BD"))
    assert list(descriptor) == [
        "id",
        "name",
        "fullyQualifiedName",
        "description",
        "kind",
        "domain",
        "version",
        "environment",
        "dataProductOwner",
        "ownerGroup",
        "devGroup",
        "informationSLA",
        "maturity",
        "tags",
        "specific",
        "useCaseTemplateId",
        "components",
    ]


def test_component_fields_are_derived_from_the_entity_when_spec_mesh_lacks_them():
    ledger = build()["components"][1]
    assert ledger == {
        "id": "urn:dmb:cmp:finance:cashflow:0:ledger",
        "name": "ledger",
        "description": "The ledger",
        "kind": "storage",
        "version": "0.0.0",
        "infrastructureTemplateId": "urn:dmb:itm:postgres:1",
        "dependsOn": [],
        "tags": [],
        "specific": {},
    }


def test_a_component_keeps_what_its_spec_mesh_writes_beside_the_derived_fields():
    port = build()["components"][0]
    assert port["id"] == "urn:dmb:cmp:finance:cashflow:0:daily-balances"
    assert port["name"] == "Daily balances"
    assert port["description"] == "Balances per account per day"
    assert port["dependsOn"] == ["urn:dmb:cmp:finance:cashflow:0:ledger"]
    assert port["readsFrom"] == ["urn:dmb:cmp:sales:orders:1:orders-view"]
    assert port["useCaseTemplateId"] == "urn:dmb:utm:postgres-outputport:0.0.0"
    assert port["dataContract"]["termsAndConditions"] == "Internal use only"


def test_a_name_defaults_to_the_title_then_to_the_name_part():
    titled = storage()
    titled["metadata"]["title"] = "General ledger"
    untitled = system()
    del untitled["metadata"]["title"], untitled["spec"]["mesh"]["name"]
    descriptor = build(system=untitled, components=[titled])
    assert descriptor["name"] == "cashflow"
    assert descriptor["components"][0]["name"] == "General ledger"


def test_values_written_in_spec_mesh_win_over_derived_ones_but_not_over_the_environment():
    descriptor = build(system=system(description="Written in mesh", ownerGroup="treasury", environment="qa"))
    assert descriptor["description"] == "Written in mesh"
    assert descriptor["ownerGroup"] == "treasury"
    assert descriptor["environment"] == "development"


def test_a_workload_gets_an_empty_reads_from_so_a_new_one_is_valid():
    workload = storage()
    workload["metadata"]["name"] = "finance.cashflow.0.loader"
    workload["spec"]["type"] = "workload"
    descriptor = build(components=[workload])
    assert descriptor["components"][0]["readsFrom"] == []
    assert descriptor_validate(descriptor) == []


def test_the_systems_tags_become_tag_labels_after_those_spec_mesh_writes():
    written = {"tagFQN": "PII", "source": "Glossary", "labelType": "Manual", "state": "Confirmed"}
    descriptor = build(system=system(tags=[written, "finance", "legacy"]))
    label = {"source": "Classification", "labelType": "Manual", "state": "Confirmed"}
    assert descriptor["tags"] == [written, {"tagFQN": "finance"} | label, {"tagFQN": "legacy"} | label]


def test_the_dev_group_is_a_name_like_the_owner_group_and_defaults_to_it():
    assert build()["devGroup"] == build()["ownerGroup"] == "finance"
    assert build(system=system(devGroup="group:default/treasury"))["devGroup"] == "treasury"
    assert build(system=system(devGroup="user:alice"))["devGroup"] == "user:alice"
    without = system()
    del without["spec"]["mesh"]["devGroup"]
    assert build(system=without)["devGroup"] == "finance"


def test_what_the_adapters_require_of_a_kind_is_filled_in_for_older_components():
    port, loader = output_port(), storage()
    loader["metadata"]["name"] = "finance.cashflow.0.loader"
    loader["spec"]["type"] = "workload"
    written = output_port()
    written["spec"]["mesh"]["semanticLinking"] = {}  # the CUE's object form
    descriptor = build(components=[port, storage(), loader])
    by_id = {component["id"].rsplit(":", 1)[1]: component for component in descriptor["components"]}
    assert by_id["daily-balances"]["semanticLinking"] == []
    assert by_id["loader"]["connectionType"] == "DataPipeline"
    assert "connectionType" not in by_id["ledger"] and "semanticLinking" not in by_id["ledger"]
    assert build(components=[written, storage()])["components"][0]["semanticLinking"] == []
    kept = storage(kind="workload", connectionType="housekeeping")
    kept["spec"]["type"] = "workload"
    assert build(components=[kept])["components"][0]["connectionType"] == "housekeeping"


# --- environment configuration -----------------------------------------------------------------------------


def test_configuration_is_deep_merged_into_specific():
    document = system(specific={"database": {"name": "cash", "pool": {"min": 1, "max": 5}}, "schemas": ["a", "b"]})
    configurations = {
        "finance.cashflow.0": {"database": {"host": "db.qa", "pool": {"max": 20}}, "schemas": ["c"], "debug": True},
        "finance.cashflow.0.ledger": {"table": "ledger_qa"},
    }
    descriptor = build(system=document, configurations=configurations, environment="qa")
    assert descriptor["specific"] == {
        "database": {"name": "cash", "pool": {"min": 1, "max": 20}, "host": "db.qa"},  # mappings merge at every level
        "schemas": ["c"],  # lists replace
        "debug": True,
    }
    assert descriptor["components"][1]["specific"] == {"table": "ledger_qa"}
    assert descriptor["components"][0]["specific"] == {}  # no configuration for the port


def test_a_scalar_in_the_configuration_replaces_a_mapping_and_a_mapping_replaces_a_scalar():
    document = system(specific={"schedule": {"cron": "0 2 * * *"}, "retention": 30})
    configurations = {"finance.cashflow.0": {"schedule": "manual", "retention": {"days": 90}}}
    assert build(system=document, configurations=configurations)["specific"] == {
        "schedule": "manual",
        "retention": {"days": 90},
    }


def test_an_empty_configuration_file_changes_nothing():
    descriptor = build(configurations={"finance.cashflow.0": None})
    assert descriptor["specific"] == {}


def test_a_null_specific_takes_the_configuration():
    descriptor = build(components=[storage(specific=None)], configurations={"finance.cashflow.0.ledger": {"a": 1}})
    assert descriptor["components"][0]["specific"] == {"a": 1}


# --- order and immutability ---------------------------------------------------------------------------------


def test_components_are_ordered_by_id_whatever_the_input_order():
    forward = build(components=[output_port(), storage()])
    backward = build(components=[storage(), output_port()])
    assert forward == backward
    assert [component["id"] for component in forward["components"]] == [
        "urn:dmb:cmp:finance:cashflow:0:daily-balances",
        "urn:dmb:cmp:finance:cashflow:0:ledger",
    ]


def test_the_inputs_are_never_mutated_nor_shared_with_the_result():
    inputs = {
        "system": system(specific={"nested": {"list": [1, 2]}}),
        "components": [output_port(), storage()],
        "environment": "qa",
        "configurations": {"finance.cashflow.0": {"nested": {"extra": {"deep": [3]}}}},
    }
    before = copy.deepcopy(inputs)
    descriptor = descriptor_build(**inputs)
    assert inputs == before

    descriptor["specific"]["nested"]["list"].append(99)
    descriptor["specific"]["nested"]["extra"]["deep"].append(99)
    descriptor["components"][0]["dataContract"]["schema"].clear()
    descriptor["components"][0]["dependsOn"].append("x")
    assert inputs == before


def test_building_twice_gives_the_same_descriptor():
    assert build() == build()


# --- the built descriptor is a valid one ---------------------------------------------------------------------


def test_the_descriptor_of_a_small_data_product_validates():
    descriptor = build(configurations={"finance.cashflow.0.daily-balances": {"table": "daily_balances"}})
    assert descriptor_validate(descriptor) == []


def test_a_built_descriptor_with_a_dangling_dependency_does_not_validate():
    # The port depends on ledger, so without it the descriptor names a component that is not there.
    descriptor = build(components=[output_port()])
    assert descriptor_validate(descriptor) == [
        'components[0].dependsOn[0]: "urn:dmb:cmp:finance:cashflow:0:ledger" names no component of this data product'
    ]


# --- MESHFORGE_ENVIRONMENTS -----------------------------------------------------------------------------------


def _manage_check(**env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_default_environments_are_development_qa_and_production():
    if "MESHFORGE_ENVIRONMENTS" in os.environ:
        pytest.skip("MESHFORGE_ENVIRONMENTS is set for this run")
    assert settings.MESHFORGE_ENVIRONMENTS == ["development", "qa", "production"]


@pytest.mark.parametrize("value", ["Production", "qa,-x", "dev,dev", "dev,q a"])
def test_bad_environment_names_stop_start_up_naming_the_variable(value):
    result = _manage_check(MESHFORGE_ENVIRONMENTS=value)
    assert result.returncode != 0
    assert result.stderr.strip().startswith("meshforge: configuration error: MESHFORGE_ENVIRONMENTS: "), result.stderr
