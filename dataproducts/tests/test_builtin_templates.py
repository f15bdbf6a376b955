"""Tests for the built-in templates (PRODUCT §4.1): valid Template/EditTemplate entities listed by their Location,
skeletons that render valid data product entities, and user values that always arrive as data, whatever they hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from catalog.validation import validate_data_product, validate_entity
from core.yaml import load, load_all
from dataproducts.demo import BUILTIN_TEMPLATES
from dataproducts.descriptor.adapter import descriptor_adapter_problems
from dataproducts.descriptor.build import descriptor_build
from dataproducts.scaffold.checks import template_problems
from dataproducts.scaffold.rendering import skeleton_render

FOLDERS = ("dataproduct", "outputport", "workload", "storage")
COMPONENT_FOLDERS = FOLDERS[1:]
DOCUMENTS = tuple(f"{folder}/{name}" for folder in FOLDERS for name in ("template.yaml", "edit-template.yaml"))
WITBOOST_FIXTURES = Path(settings.BASE_DIR) / "tests" / "data" / "witboost"
# Parameters the service turns into _meta values (after checking them) rather than passing on as text.
DERIVED_PARAMETERS = frozenset({"name", "domain", "owner", "dependsOn"})

DP_META = {
    "kind": "dataproduct",
    "domain": "finance",
    "name": "cashflow",
    "major": 0,
    "entity_name": "finance.cashflow.0",
    "id": "urn:dmb:dp:finance:cashflow:0",
    "version": "0.0.0",
    "owner": "group:finance",
    "owner_group": "finance",
    "user_ref": "user:alice",
    "username": "alice",
    "use_case_template_id": "urn:dmb:utm:dataproduct-template:0.0.0",
    "environments": ["development", "production"],
}


def document(path: str) -> dict:
    return load((BUILTIN_TEMPLATES / path).read_text(), source=path)


def skeleton(folder: str) -> dict[str, bytes]:
    root = BUILTIN_TEMPLATES / folder / "skeleton"
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def component_meta(folder: str, component: str, depends_on: list[str] | None = None) -> dict:
    mesh = document(f"{folder}/template.yaml")["spec"]["mesh"]
    return DP_META | {
        "kind": folder,
        "component": component,
        "component_entity_name": f"finance.cashflow.0.{component}",
        "component_id": f"urn:dmb:cmp:finance:cashflow:0:{component}",
        "system": "system:finance.cashflow.0",
        "dp_id": "urn:dmb:dp:finance:cashflow:0",
        "depends_on": depends_on or [],
        "infrastructure_template_id": mesh["infrastructureTemplateId"],
        "use_case_template_id": mesh["useCaseTemplateId"],
    }


def meta_of(folder: str) -> dict:
    return DP_META if folder == "dataproduct" else component_meta(folder, "daily-balances")


def render(folder: str, values: dict, meta: dict | None = None) -> dict[str, str]:
    name = document(f"{folder}/template.yaml")["metadata"]["name"]
    return skeleton_render(files=skeleton(folder), values=values, meta=meta or meta_of(folder), template_name=name)


def entity_of(files: dict[str, str]) -> dict:
    documents = load_all(files["catalog-info.yaml"], source="catalog-info.yaml")
    assert len(documents) == 1
    return documents[0]


def parameters_of(path: str) -> dict[str, dict]:
    return {
        name: schema for step in document(path)["spec"]["parameters"] for name, schema in step["properties"].items()
    }


def at_path(entity: dict, dotted: str) -> object:
    value: object = entity
    for key in dotted.split("."):
        assert isinstance(value, dict) and key in value, f"{dotted} is missing from the rendered entity"
        value = value[key]
    return value


VALUES = {
    "dataproduct": {
        "name": "cashflow",
        "title": "Cash flow",
        "description": "Operating cash flows",
        "domain": "domain:finance",
        "owner": "group:finance",
        "maturity": "Strategic",
        "informationSLA": "2BD",
        "tags": ["finance", "cash"],
    },
    "outputport": {
        "name": "daily-balances",
        "title": "Daily balances",
        "description": "Balances per account per day",
        "dependsOn": [],
        "columns": [
            {"name": "day", "dataType": "DATE", "description": "The day", "constraint": "PRIMARY_KEY"},
            {"name": "account", "dataType": "VARCHAR", "dataLength": 64},
            {"name": "balance", "dataType": "DECIMAL", "precision": 12, "scale": 2},
        ],
        "termsAndConditions": "Internal use only",
    },
    "workload": {
        "name": "balance-load",
        "title": "Balance load",
        "description": "Sums the ledger per day",
        "dependsOn": [],
        "sql": "INSERT INTO daily_balances SELECT day, sum(amount) FROM ledger GROUP BY day;\n",
    },
    "storage": {"name": "ledger", "title": "Ledger", "description": "Every booking as received"},
}


# --- the documents ------------------------------------------------------------------------------------------


def test_the_location_lists_every_template_and_edit_template():
    location = document("catalog-info.yaml")

    assert validate_entity(location, source="catalog-info.yaml") == []
    assert location["kind"] == "Location"
    assert sorted(location["spec"]["targets"]) == sorted(f"./{path}" for path in DOCUMENTS)
    shipped = sorted(
        path.relative_to(BUILTIN_TEMPLATES).as_posix() for path in BUILTIN_TEMPLATES.glob("*/*template.yaml")
    )
    assert shipped == sorted(DOCUMENTS)


@pytest.mark.parametrize("path", DOCUMENTS)
def test_every_builtin_template_is_a_valid_entity_without_template_problems(path):
    template = document(path)

    assert validate_entity(template, source=path) == []
    assert template_problems(template) == []
    assert template["spec"]["owner"] == "group:platform"


@pytest.mark.parametrize("folder", FOLDERS)
def test_each_edit_template_belongs_to_its_template(folder):
    template = document(f"{folder}/template.yaml")
    edit = document(f"{folder}/edit-template.yaml")

    assert template["kind"] == "Template"
    assert edit["kind"] == "EditTemplate"
    assert template["metadata"]["name"] == folder
    assert edit["metadata"]["name"] == f"{folder}-edit"
    assert edit["spec"]["useCaseTemplateId"] == template["spec"]["mesh"]["useCaseTemplateId"]
    assert edit["spec"]["type"] == template["spec"]["type"] == folder


def test_component_templates_are_served_by_the_builtin_postgres_adapter():
    ids = {folder: document(f"{folder}/template.yaml")["spec"]["mesh"] for folder in COMPONENT_FOLDERS}

    assert ids == {
        "outputport": {
            "useCaseTemplateId": "urn:dmb:utm:postgres-outputport-template:0.0.0",
            "infrastructureTemplateId": "urn:dmb:itm:postgres:1",
        },
        "workload": {
            "useCaseTemplateId": "urn:dmb:utm:postgres-workload-template:0.0.0",
            "infrastructureTemplateId": "urn:dmb:itm:postgres:1",
        },
        "storage": {
            "useCaseTemplateId": "urn:dmb:utm:postgres-storage-template:0.0.0",
            "infrastructureTemplateId": "urn:dmb:itm:postgres:1",
        },
    }


POSTGRES_TYPES = {"VARCHAR", "CHAR", "TEXT", "SMALLINT", "INT", "BIGINT", "DECIMAL", "NUMERIC", "TIMESTAMP", "DATE"}


@pytest.mark.parametrize("path", ["outputport/template.yaml", "outputport/edit-template.yaml"])
def test_the_postgres_output_port_offers_postgres_column_types_that_the_dps_names_with_their_sizes(path):
    cue = (WITBOOST_FIXTURES / "data-product-specification.cue").read_text()
    dps_types = re.search(r'#OM_DataType:.*"\(\?i\)\^\(([A-Z|]+)\)\$"', cue).group(1).split("|")
    column = parameters_of(path)["columns"]["items"]
    offered = column["properties"]["dataType"]["enum"]

    assert set(offered) <= set(dps_types) and set(offered) >= POSTGRES_TYPES
    assert "STRING" not in offered and "ARRAY" not in offered  # not PostgreSQL's, or no cell for their parts
    assert {"dataLength", "precision", "scale"} <= set(column["properties"])
    assert column["allOf"], "the rules that ask for a length or a precision by type"
    assert column["properties"]["constraint"]["enum"] == ["NULL", "NOT_NULL", "UNIQUE", "PRIMARY_KEY"]
    assert column["required"] == ["name", "dataType"]
    assert column["properties"]["name"]["pattern"] == "^[a-z_][a-z0-9_]*$"
    assert parameters_of(path)["columns"]["minItems"] == 1


@pytest.mark.parametrize("folder", FOLDERS)
def test_names_follow_the_id_pattern(folder):
    assert parameters_of(f"{folder}/template.yaml")["name"]["pattern"] == "^[a-z][a-z0-9-]{1,38}[a-z0-9]$"


# --- rendering valid entities -------------------------------------------------------------------------------


def test_the_data_product_template_renders_the_system_of_product_section_3_3():
    files = render("dataproduct", VALUES["dataproduct"])

    system = entity_of(files)
    assert validate_entity(system, source="catalog-info.yaml") == []
    assert system == {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "System",
        "metadata": {
            "name": "finance.cashflow.0",
            "title": "Cash flow",
            "description": "Operating cash flows",
            "tags": ["finance", "cash"],
        },
        "spec": {
            "type": "dataproduct",
            "lifecycle": "experimental",
            "owner": "group:finance",
            "domain": "domain:finance",
            "mesh": {
                "name": "Cash flow",
                "fullyQualifiedName": "Finance - Cash flow - v0",
                "version": "0.0.0",
                "dataProductOwner": "user:alice",
                "devGroup": "group:finance",
                "maturity": "Strategic",
                "informationSLA": "2BD",
                "tags": [],
                "billing": {},
                "specific": {},
                "useCaseTemplateId": "urn:dmb:utm:dataproduct-template:0.0.0",
            },
        },
    }
    assert sorted(files) == ["README.md", "catalog-info.yaml"]
    assert files["README.md"].startswith("# Cash flow\n\nOperating cash flows\n")


def test_the_output_port_template_renders_a_component_with_its_data_contract():
    port = entity_of(render("outputport", VALUES["outputport"]))

    assert validate_entity(port, source="catalog-info.yaml") == []
    assert port["metadata"] == {
        "name": "finance.cashflow.0.daily-balances",
        "title": "Daily balances",
        "description": "Balances per account per day",
    }
    assert {key: port["spec"][key] for key in ("type", "lifecycle", "owner", "system")} == {
        "type": "outputport",
        "lifecycle": "experimental",
        "owner": "group:finance",
        "system": "system:finance.cashflow.0",
    }
    mesh = port["spec"]["mesh"]
    creation_date = mesh.pop("creationDate")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", creation_date)
    assert mesh == {
        "name": "Daily balances",
        "fullyQualifiedName": "Finance - cashflow - v0 - Daily balances",
        "kind": "outputport",
        "version": "0.0.0",
        "infrastructureTemplateId": "urn:dmb:itm:postgres:1",
        "useCaseTemplateId": "urn:dmb:utm:postgres-outputport-template:0.0.0",
        "dependsOn": [],
        "platform": "PostgreSQL",
        "technology": "PostgreSQL",
        "outputPortType": "SQL",
        "tags": [],
        "dataContract": {
            "schema": VALUES["outputport"]["columns"],
            "termsAndConditions": "Internal use only",
            "SLA": {},
        },
        "dataSharingAgreement": {},
        "semanticLinking": [],
        "specific": {"schema": "finance_cashflow_0", "view": "daily_balances"},
    }


def test_the_workload_template_renders_its_sql_into_specific():
    workload = entity_of(render("workload", VALUES["workload"], component_meta("workload", "balance-load")))

    assert validate_entity(workload, source="catalog-info.yaml") == []
    assert workload["spec"]["type"] == workload["spec"]["mesh"]["kind"] == "workload"
    assert workload["spec"]["mesh"]["specific"] == {"schema": "finance_cashflow_0", "sql": VALUES["workload"]["sql"]}


def test_the_storage_template_renders_a_schema_of_its_own():
    storage = entity_of(render("storage", VALUES["storage"], component_meta("storage", "ledger")))

    assert validate_entity(storage, source="catalog-info.yaml") == []
    assert storage["spec"]["mesh"]["specific"] == {"schema": "finance_cashflow_0_ledger"}
    assert storage["spec"]["mesh"]["infrastructureTemplateId"] == "urn:dmb:itm:postgres:1"


def test_a_data_product_with_an_output_port_and_a_workload_depending_on_it_is_consistent():
    system = entity_of(render("dataproduct", VALUES["dataproduct"]))
    port = entity_of(render("outputport", VALUES["outputport"], component_meta("outputport", "daily-balances")))
    port_id = "urn:dmb:cmp:finance:cashflow:0:daily-balances"
    workload_meta = component_meta("workload", "balance-load", depends_on=[port_id])
    workload = entity_of(render("workload", VALUES["workload"] | {"dependsOn": [port_id]}, workload_meta))

    for entity in (system, port, workload):
        assert validate_entity(entity, source="catalog-info.yaml") == []
    assert workload["spec"]["mesh"]["dependsOn"] == [port_id]
    assert validate_data_product(system, [port, workload]) == {}


def test_a_product_rendered_from_every_builtin_template_is_adapter_ready():
    """The golden path at template level: what the skeletons write builds into a descriptor that the Witboost tech
    adapters accept, as a whole and as each component's COMPONENT_DESCRIPTOR."""
    system = entity_of(render("dataproduct", VALUES["dataproduct"]))
    port = entity_of(render("outputport", VALUES["outputport"], component_meta("outputport", "daily-balances")))
    storage = entity_of(render("storage", VALUES["storage"], component_meta("storage", "ledger")))
    workload = entity_of(render("workload", VALUES["workload"], component_meta("workload", "balance-load")))

    descriptor = descriptor_build(system=system, components=[port, storage, workload], environment="development")

    assert descriptor_adapter_problems(descriptor) == []
    for component in descriptor["components"]:
        payload = {"dataProduct": descriptor, "componentIdToProvision": component["id"]}
        assert descriptor_adapter_problems(payload) == [], component["id"]
    assert descriptor["tags"][0] == {
        "tagFQN": "finance",
        "source": "Classification",
        "labelType": "Manual",
        "state": "Confirmed",
    }
    assert {component["kind"]: component.get("connectionType") for component in descriptor["components"]} == {
        "outputport": None,
        "storage": None,
        "workload": "DataPipeline",
    }


def test_the_consistency_check_sees_a_dependency_on_a_missing_component():
    """The check above is meaningful: the same rendered workload without its output port is inconsistent."""
    system = entity_of(render("dataproduct", VALUES["dataproduct"]))
    port_id = "urn:dmb:cmp:finance:cashflow:0:daily-balances"
    workload_meta = component_meta("workload", "balance-load", depends_on=[port_id])
    workload = entity_of(render("workload", VALUES["workload"], workload_meta))

    assert validate_data_product(system, [workload]) != {}


@pytest.mark.parametrize(
    ("folder", "left_out"),
    [
        ("dataproduct", ("maturity", "informationSLA", "tags")),
        ("outputport", ("dependsOn", "termsAndConditions")),
        ("workload", ("dependsOn",)),
    ],
)
def test_optional_values_may_be_left_out(folder, left_out):
    values = {name: value for name, value in VALUES[folder].items() if name not in left_out}

    entity = entity_of(render(folder, values))

    assert validate_entity(entity, source="catalog-info.yaml") == []
    if folder == "dataproduct":
        assert entity["spec"]["mesh"]["maturity"] == "Tactical"
        assert "informationSLA" not in entity["spec"]["mesh"]
        assert entity["metadata"]["tags"] == []


def test_every_rendered_yaml_file_of_every_builtin_skeleton_is_valid_yaml():
    for folder in FOLDERS:
        for path, text in render(folder, VALUES[folder]).items():
            if path.endswith((".yaml", ".yml")):
                assert load_all(text, source=path)


# --- hostile values -----------------------------------------------------------------------------------------


def hostile_strings(marker: Path) -> dict[str, str]:
    return {
        "colon": "key: value, other: thing",
        "quotes": "it's \"quoted\" and 'single'",
        "newlines": "first line\nsecond: line\n\n- item\n",
        "jinja": "{{ 7*7 }} {% if true %}yes{% endif %} {# hidden #}",
        "code": f"{{{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}}}",
        "comment": "value # comment",
        "documents": "---\napiVersion: backstage.io/v1alpha1\nkind: Location\n...\n",
        "ten_kilobytes": ("x: {{ 7*7 }} # ---\n'\"" * 600)[:10240],
        "unicode": "Café 🚀 👩‍👩‍👧 数据 \u2028 \u2029 \x85 \ufeff \u202e end",
    }


def hostile_values(parameters: dict[str, dict], text: str) -> dict:
    """A value of the right shape for each parameter, every string in it made of ``text`` (and the parameter's
    name, so that a value found in the output can be traced to its parameter)."""
    values: dict = {}
    for name, schema in parameters.items():
        own = f"{text} [{name}]"
        if schema.get("type") == "array" and schema["items"].get("type") == "object":
            values[name] = [{field: f"{own}.{field}" for field in schema["items"]["properties"]}]
        elif schema.get("type") == "array":
            values[name] = [own, f"{own} again"]
        else:
            values[name] = own
    return values


@pytest.mark.parametrize("folder", FOLDERS)
@pytest.mark.parametrize("kind", list(hostile_strings(Path("x"))))
def test_hostile_values_in_every_text_parameter_end_up_literally_as_data(folder, kind, tmp_path):
    marker = tmp_path / "code-ran"
    text = hostile_strings(marker)[kind]
    parameters = parameters_of(f"{folder}/template.yaml")
    fields = document(f"{folder}/edit-template.yaml")["spec"]["fields"]
    values = hostile_values(parameters, text)

    files = render(folder, values)

    entity = entity_of(files)
    for name in parameters:
        if name in DERIVED_PARAMETERS:
            continue
        assert name in fields, f"{folder}: parameter {name} is written nowhere an edit can change it"
        paths = fields[name] if isinstance(fields[name], list) else [fields[name]]
        for path in paths:
            assert at_path(entity, path) == values[name], f"{folder}: {path} does not hold the value of {name}"
    for name in DERIVED_PARAMETERS & set(parameters):
        assert f"[{name}]" not in files["catalog-info.yaml"], f"{folder}: {name} is written as text, not from _meta"
    assert f"{text} [title]" in files["README.md"]
    assert not marker.exists()


def test_a_data_product_title_of_jinja_stays_literal_everywhere():
    files = render("dataproduct", VALUES["dataproduct"] | {"title": "{{ 7*7 }}"})

    system = entity_of(files)
    assert system["metadata"]["title"] == system["spec"]["mesh"]["name"] == "{{ 7*7 }}"
    assert system["spec"]["mesh"]["fullyQualifiedName"] == "Finance - {{ 7*7 }} - v0"
    assert files["README.md"].startswith("# {{ 7*7 }}\n")
    assert "49" not in files["catalog-info.yaml"] + files["README.md"]
