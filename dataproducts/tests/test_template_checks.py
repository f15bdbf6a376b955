"""The one check of a template (``dataproducts.scaffold.checks``): what a Template or EditTemplate document must
hold to be offered, its ``spec.parameters`` judged by the same check as the forms (PRODUCT §4.1)."""

from __future__ import annotations

import pytest

from core.problems import Severity, messages
from dataproducts.scaffold.checks import IDENTITY_PATHS, template_check, template_problems
from dataproducts.scaffold.parameters import TEMPLATE_CODE, parameters_check


def step(properties: dict, required: list | None = None, **extra) -> dict:
    return {"title": "Step", "required": required or [], "properties": properties, **extra}


def template(template_type: str = "dataproduct", parameters: list | None = None, **spec) -> dict:
    mesh = {"useCaseTemplateId": "urn:dmb:utm:x:0.0.0"}
    if template_type != "dataproduct":
        mesh["infrastructureTemplateId"] = "urn:dmb:itm:x:1"
    if parameters is None:
        properties = {"name": {"type": "string"}}
        required = ["name"]
        if template_type == "dataproduct":
            properties |= {"domain": {"type": "string", "ui:field": "DomainPicker"}}
            properties |= {"owner": {"type": "string", "ui:field": "OwnerPicker"}}
            required += ["domain", "owner"]
        parameters = [step(properties, required)]
    document_spec = {"type": template_type, "owner": "group:platform", "mesh": mesh, "parameters": parameters}
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Template",
        "metadata": {"name": "t"},
        "spec": document_spec | spec,
    }


def edit_template(fields: dict, properties: dict | None = None) -> dict:
    properties = properties or {"title": {"type": "string"}, "description": {"type": "string"}}
    spec = {"type": "outputport", "useCaseTemplateId": "urn:dmb:utm:x:0.0.0", "parameters": [step(properties)]}
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "EditTemplate",
        "metadata": {"name": "t-edit"},
        "spec": spec | {"fields": fields},
    }


@pytest.mark.parametrize("template_type", ["dataproduct", "outputport", "workload", "storage", "observability"])
def test_a_well_formed_template_of_every_type_has_no_problems(template_type):
    assert template_problems(template(template_type)) == []


def test_a_well_formed_edit_template_has_no_problems():
    fields = {"title": ["metadata.title", "spec.mesh.name"], "description": "metadata.description"}

    assert template_problems(edit_template(fields)) == []


def test_a_template_type_outside_the_five_is_refused():
    assert template_problems(template("service")) == [
        'spec.type: "service" is not allowed; expected one of dataproduct, outputport, workload, storage, observability'
    ]


@pytest.mark.parametrize("parameters", [None, {}, [], "steps"])
def test_parameters_must_be_a_list_of_steps(parameters):
    document = template()
    document["spec"]["parameters"] = parameters

    assert "spec.parameters: must be a non-empty list of form steps" in template_problems(document)


def test_each_step_must_be_an_object_with_a_title_and_properties():
    document = template(parameters=[*template()["spec"]["parameters"], "name", {"title": "Empty", "properties": {}}])

    assert template_problems(document) == [
        "spec.parameters[1]: must be an object with title, required and properties",
        "spec.parameters[2].properties: must be a non-empty object",
    ]


@pytest.mark.parametrize("title", ["missing", ""])
def test_each_step_needs_a_title_the_wizard_lists(title):
    document = template()
    document["spec"]["parameters"][0]["title"] = title
    if title == "missing":
        del document["spec"]["parameters"][0]["title"]

    assert template_problems(document) == ["spec.parameters[0].title: is required (a non-empty string)"]


@pytest.mark.parametrize("title", [None, 3])
def test_a_title_that_is_not_text_is_named_once(title):
    document = template()
    document["spec"]["parameters"][0]["title"] = title

    assert template_problems(document) == ["spec.parameters[0].title: must be a string"]


def test_a_parameter_type_json_schema_does_not_know_is_refused():
    document = template()
    document["spec"]["parameters"][0]["properties"]["name"]["type"] = "text"

    assert template_problems(document) == [
        'spec.parameters[0].properties.name.type: "text" is not supported; expected one of string, number, integer, '
        "boolean, array, object"
    ]


def test_the_parameters_are_checked_by_the_forms_check_alone():
    document = template()
    document["spec"]["parameters"][0]["properties"]["name"] |= {"minLength": -1, "format": "email"}

    assert template_check(document) == parameters_check(document["spec"]["parameters"])


@pytest.mark.parametrize("missing", ["name", "domain", "owner"])
def test_a_data_product_template_must_declare_name_domain_and_owner(missing):
    document = template()
    del document["spec"]["parameters"][0]["properties"][missing]
    document["spec"]["parameters"][0]["required"].remove(missing)

    assert template_problems(document) == [
        f"spec.parameters: a template of type dataproduct must declare the parameter {missing}"
    ]


def test_a_component_template_must_declare_name_and_its_infrastructure_template():
    document = template("outputport", parameters=[step({"title": {"type": "string"}})])
    del document["spec"]["mesh"]["infrastructureTemplateId"]

    assert template_problems(document) == [
        "spec.mesh.infrastructureTemplateId: is required (a non-empty string)",
        "spec.parameters: a template of type outputport must declare the parameter name",
    ]


def test_identity_parameters_must_be_required_and_use_their_pickers():
    document = template()
    properties = document["spec"]["parameters"][0]["properties"]
    properties["owner"]["ui:field"] = "EntityPicker"
    properties["owner"]["ui:options"] = {"allowedKinds": ["Group"]}
    document["spec"]["parameters"][0]["required"] = ["name", "owner"]

    assert template_problems(document) == [
        "spec.parameters[0].properties.domain: must be listed in its step's required",
        "spec.parameters[0].properties.owner.ui:field: must be OwnerPicker",
    ]


def test_unknown_ui_hints_and_pickers_without_kinds_are_refused():
    properties = {"a": {"type": "string", "ui:field": "SecretPicker"}, "b": {"type": "string", "ui:widget": "html"}}
    properties |= {
        "c": {"type": "string", "ui:field": "EntityPicker"},
        "d": {"type": "string", "ui:field": "ComponentPicker"},
    }
    document = template("storage", parameters=[step({"name": {"type": "string"}, **properties}, ["name"])])

    assert template_problems(document) == [
        'spec.parameters[0].properties.a.ui:field: "SecretPicker" is not a picker for a string',
        'spec.parameters[0].properties.b.ui:widget: "html" is not supported; expected textarea or password',
        "spec.parameters[0].properties.c.ui:options: is required for an EntityPicker: {allowedKinds: [kinds]}",
        'spec.parameters[0].properties.d.ui:field: "ComponentPicker" is not a picker for a string',
    ]


def test_a_parameter_declared_twice_is_refused():
    document = template("storage", parameters=[step({"name": {"type": "string"}}, ["name"]), step({"name": {}})])

    assert template_problems(document) == [
        "spec.parameters[1].properties.name: is already declared at spec.parameters[0].properties.name"
    ]


@pytest.mark.parametrize("where", ["top", "mesh", "step", "property"])
def test_extensions_anywhere_in_a_template_spec_are_refused(where):
    document = template()
    target = {
        "top": document["spec"],
        "mesh": document["spec"]["mesh"],
        "step": document["spec"]["parameters"][0],
        "property": document["spec"]["parameters"][0]["properties"]["name"],
    }[where]
    target["_extensions"] = ["evil.Extension"]

    assert any(
        "_extensions: is not allowed; templates may not load Jinja extensions" in p for p in template_problems(document)
    )


def test_edit_template_fields_may_only_name_declared_parameters():
    assert template_problems(
        edit_template(
            {"title": "metadata.title", "description": "metadata.description", "sql": "spec.mesh.specific.sql"}
        )
    ) == ['spec.fields.sql: "sql" is not a declared parameter']


def test_every_edit_template_parameter_must_be_mapped_to_a_path():
    assert template_problems(edit_template({"title": "metadata.title"})) == [
        "spec.parameters[0].properties.description: is not mapped to a path in spec.fields"
    ]


@pytest.mark.parametrize("path", [*IDENTITY_PATHS, "metadata", "spec", "spec.mesh", "metadata.name.first"])
def test_edit_template_fields_may_never_write_an_identity_path(path):
    fields = {"title": ["metadata.title", path], "description": "metadata.description"}

    problems = template_problems(edit_template(fields))

    assert len(problems) == 1
    assert problems[0].startswith("spec.fields.title[1]: ")


@pytest.mark.parametrize(
    ("path", "identity"),
    [("metadata.name", "metadata.name"), ("spec.mesh", "spec.mesh.id"), ("spec.owner.name", "spec.owner")],
)
def test_refusing_an_identity_path_names_what_it_would_change(path, identity):
    problems = template_problems(edit_template({"title": path, "description": "metadata.description"}))

    assert problems == [f"spec.fields.title: {path} may not be edited; it would change {identity}"]


@pytest.mark.parametrize(
    "path", ["title", "status.items", "metadata.", "metadata..title", "metadata.links[0].url", 3, []]
)
def test_edit_template_fields_must_be_dotted_paths_under_metadata_or_spec(path):
    problems = template_problems(edit_template({"title": path, "description": "metadata.description"}))

    assert len(problems) == 1
    assert problems[0].startswith("spec.fields.title")


def test_two_parameters_may_not_write_the_same_path():
    problems = template_problems(
        edit_template({"title": "metadata.description", "description": "metadata.description"})
    )

    assert problems == [
        "spec.fields.description: metadata.description overlaps metadata.description, which title writes"
    ]


def test_an_edit_template_needs_its_use_case_template_id():
    document = edit_template({"title": "metadata.title", "description": "metadata.description"})
    del document["spec"]["useCaseTemplateId"]

    assert template_problems(document) == ["spec.useCaseTemplateId: is required (a non-empty string)"]


@pytest.mark.parametrize("document", [[], {"kind": "Component", "spec": {}}, {"kind": "Template", "spec": []}])
def test_documents_that_are_not_templates_are_reported(document):
    assert len(template_problems(document)) == 1


def broken_templates() -> list[object]:
    unknown_hints = template("storage", parameters=[step({"name": {"ui:field": "SecretPicker"}, "a": "x"}, ["b"])])
    return [
        "template",
        {"kind": "Location"},
        {"kind": "Template", "spec": []},
        template("service", parameters=[]),
        unknown_hints,
        edit_template({"title": "metadata.name", "sql": "spec.mesh.specific.sql"}),
    ]


@pytest.mark.parametrize("document", broken_templates(), ids=lambda document: repr(document)[:30])
def test_template_check_finds_what_template_problems_words_as_template_errors(document):
    problems = template_check(document)

    assert problems
    assert messages(problems) == template_problems(document)
    assert {(problem.code, problem.severity) for problem in problems} == {(TEMPLATE_CODE, Severity.ERROR)}


def test_template_check_names_the_path_apart_from_the_message():
    [problem] = template_check(template("service"))

    assert (problem.path, problem.code) == ("spec.type", "template")
    assert problem.message.startswith('"service" is not allowed; expected one of dataproduct')
