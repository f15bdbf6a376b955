"""Tests for catalog.validation.validate_entity: the Backstage envelope, metadata and kind rules (PRODUCT §3.1).

Data product rules are in test_validation_dataproducts.py, relations and the stored form in test_relations.py.
"""

import copy

import pytest

from catalog.validation import validate_entity

SOURCE = "catalog-info.yaml"

MINIMAL_SPECS = {
    "Component": {"type": "service", "lifecycle": "production", "owner": "group:payments"},
    "System": {"owner": "payments"},
    "Domain": {"owner": "payments"},
    "Resource": {"type": "database", "owner": "payments"},
    "API": {"type": "openapi", "lifecycle": "production", "owner": "payments", "definition": "openapi: 3.0.0"},
    "Group": {"type": "team", "children": []},
    "User": {"memberOf": ["payments"]},
    "Location": {"target": "./components/ledger/catalog-info.yaml"},
    "Template": {"type": "service", "steps": []},
    "EditTemplate": {"type": "outputport"},
    "ReverseProvisioningTemplate": {"type": "outputport"},
    "AccessControlRequestTemplate": {"type": "outputport"},
}


def entity(kind: str = "Component", name: str = "payments", spec: dict | None = None, **metadata) -> dict:
    document = {"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": {"name": name, **metadata}}
    document["spec"] = copy.deepcopy(MINIMAL_SPECS.get(kind, {})) if spec is None else spec
    return document


def component(**spec_changes) -> dict:
    return entity("Component", spec={**MINIMAL_SPECS["Component"], **spec_changes})


def problems_of(document: object) -> list[str]:
    return validate_entity(document, source=SOURCE)


def only_problem(document: object) -> str:
    problems = problems_of(document)
    assert len(problems) == 1, problems
    return problems[0]


# --- envelope -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(MINIMAL_SPECS))
def test_a_minimal_entity_of_every_kind_is_valid(kind):
    assert problems_of(entity(kind)) == []


@pytest.mark.parametrize(("document", "shown"), [([], "a list"), ("kind: Component", "a string"), (None, "null")])
def test_a_document_that_is_not_an_object_is_refused(document, shown):
    assert problems_of(document) == [f"{SOURCE}: entity must be an object, not {shown}"]


@pytest.mark.parametrize("field", ["apiVersion", "kind", "metadata"])
def test_each_envelope_field_is_required(field):
    document = entity()
    del document[field]
    assert f"{SOURCE}: {field} is required" in problems_of(document)


def test_spec_is_optional_in_the_envelope():
    document = entity("MyKind")
    del document["spec"]
    assert problems_of(document) == []


@pytest.mark.parametrize(("value", "shown"), [(["a"], "a list"), ("text", "a string"), (None, "null")])
def test_spec_must_be_an_object(value, shown):
    document = entity("MyKind")
    document["spec"] = value
    assert only_problem(document) == f"{SOURCE}: spec must be an object, not {shown}"


@pytest.mark.parametrize(("value", "problem"), [("", "must be a non-empty string"), (1, "must be a non-empty string")])
def test_api_version_must_be_a_non_empty_string(value, problem):
    document = entity()
    document["apiVersion"] = value
    assert only_problem(document).startswith(f"{SOURCE}: apiVersion {problem}")


def test_an_unknown_root_key_is_refused():
    document = entity()
    document["owner"] = "group:payments"
    assert only_problem(document) == (
        f"{SOURCE}: owner is not allowed at the root; an entity has apiVersion, kind, metadata and spec"
    )


def test_an_unknown_root_key_that_is_not_an_identifier_is_quoted_in_the_path():
    document = entity()
    document["my key"] = 1
    assert only_problem(document).startswith(f'{SOURCE}: ["my key"] is not allowed at the root')


def test_relations_and_status_in_a_file_are_ignored_whatever_they_hold():
    document = entity()
    document["relations"] = "not even a list"
    document["status"] = {"items": [{"level": "error"}]}
    assert problems_of(document) == []


def test_every_problem_is_reported_not_just_the_first():
    document = {"kind": "Component", "metadata": {"name": "bad-", "tags": ["Bad"]}, "spec": {}, "extra": 1}
    problems = problems_of(document)
    assert problems == [
        f"{SOURCE}: extra is not allowed at the root; an entity has apiVersion, kind, metadata and spec",
        f"{SOURCE}: apiVersion is required",
        f'{SOURCE}: metadata.name "bad-" is not valid; expected sequences of [a-zA-Z0-9] separated by [-_.], '
        "at most 63 characters",
        f'{SOURCE}: metadata.tags[0] "Bad" is not valid; expected sequences of [a-z0-9:+#] separated by [-], '
        "at most 63 characters",
        f"{SOURCE}: spec.type is required",
        f"{SOURCE}: spec.lifecycle is required",
        f"{SOURCE}: spec.owner is required",
    ]


def test_messages_start_with_the_source_they_were_given():
    document = entity()
    del document["apiVersion"]
    assert validate_entity(document, source="components/ledger/catalog-info.yaml") == [
        "components/ledger/catalog-info.yaml: apiVersion is required"
    ]


# --- kind -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["Component", "MyKind", "k", "Kind2", "K" * 63])
def test_a_kind_of_letters_and_digits_is_valid(kind):
    assert problems_of(entity(kind)) == []


@pytest.mark.parametrize("kind", ["my-kind", "2Kind", "Kind\n", "My Kind", "", "K" * 64, "Kïnd"])
def test_a_kind_of_other_characters_is_refused(kind):
    assert only_problem(entity(kind)).startswith(f"{SOURCE}: kind ")


def test_a_kind_that_is_not_a_string_is_refused():
    assert only_problem(entity(5)) == f"{SOURCE}: kind must be a string, not a number"


def test_kinds_are_matched_case_insensitively_so_their_rules_apply():
    assert problems_of(entity("component", spec={})) == [
        f"{SOURCE}: spec.type is required",
        f"{SOURCE}: spec.lifecycle is required",
        f"{SOURCE}: spec.owner is required",
    ]


def test_an_unknown_kind_gets_the_envelope_and_metadata_checks_only():
    assert problems_of(entity("Widget", spec={"owner": ":x", "anything": [1, 2]})) == []
    assert only_problem(entity("Widget", name="bad-")).startswith(f'{SOURCE}: metadata.name "bad-" is not valid')


# --- metadata -------------------------------------------------------------------------------------------------


def test_a_name_ending_in_a_dash_is_refused_with_the_backstage_message():
    assert only_problem(entity(name="somthing-")) == (
        f'{SOURCE}: metadata.name "somthing-" is not valid; expected sequences of [a-zA-Z0-9] separated by [-_.], '
        "at most 63 characters"
    )


@pytest.mark.parametrize(
    "name", ["a", "A", "payments", "Payments-API", "a_b.c-d", "finance.cashflow.0.daily-balances", "x" * 63]
)
def test_a_valid_name_is_accepted(name):
    assert problems_of(entity(name=name)) == []


@pytest.mark.parametrize(
    "name",
    ["somthing-", "x" * 64, "name\n", "-name", ".name", "name.", "na me", "", "nämé", "name/x", "name:x", "\nname"],
)
def test_an_invalid_name_is_refused(name):
    assert only_problem(entity(name=name)).startswith(f"{SOURCE}: metadata.name ")


def test_a_sixty_four_character_name_is_refused():
    name = "x" * 64
    assert only_problem(entity(name=name)) == (
        f'{SOURCE}: metadata.name "{name}" is not valid; expected sequences of [a-zA-Z0-9] separated by [-_.], '
        "at most 63 characters"
    )


def test_a_name_with_a_trailing_newline_is_refused_and_the_newline_shown():
    assert only_problem(entity(name="name\n")).startswith(f'{SOURCE}: metadata.name "name\\n" is not valid')


def test_a_name_is_required_and_must_be_a_string():
    document = entity()
    del document["metadata"]["name"]
    assert only_problem(document) == f"{SOURCE}: metadata.name is required"
    assert only_problem(entity(name=123)) == f"{SOURCE}: metadata.name must be a string, not a number"


def test_metadata_must_be_an_object():
    document = entity()
    document["metadata"] = ["name", "payments"]
    assert only_problem(document) == f"{SOURCE}: metadata must be an object, not a list"


def test_a_very_long_value_is_shortened_in_the_message():
    problem = only_problem(entity(name="x" * 5000))
    assert len(problem) < 300
    assert "…" in problem


@pytest.mark.parametrize("namespace", ["default", "ops", "team-a", "a1-b2-c3", "n" * 63])
def test_a_valid_namespace_is_accepted(namespace):
    assert problems_of(entity(namespace=namespace)) == []


@pytest.mark.parametrize("namespace", ["Ops", "team_a", "team-", "-team", "team--a", "n" * 64, "ops\n", "", "a.b"])
def test_an_invalid_namespace_is_refused(namespace):
    assert only_problem(entity(namespace=namespace)).startswith(f"{SOURCE}: metadata.namespace ")


def test_a_namespace_that_is_not_a_string_is_refused():
    assert only_problem(entity(namespace=None)) == f"{SOURCE}: metadata.namespace must be a string, not null"


@pytest.mark.parametrize("field", ["title", "description"])
def test_title_and_description_must_be_strings(field):
    assert problems_of(entity(**{field: "Payments"})) == []
    assert only_problem(entity(**{field: ["x"]})) == f"{SOURCE}: metadata.{field} must be a string, not a list"


@pytest.mark.parametrize("tag", ["java", "c++", "c#", "web-app", "a:b", "k8s", "t" * 63])
def test_a_valid_tag_is_accepted(tag):
    assert problems_of(entity(tags=[tag])) == []


@pytest.mark.parametrize(
    "tag", ["Java", "JAVA", "web app", "-web", "web-", "web--app", "web_app", "t" * 64, "java\n", ""]
)
def test_an_invalid_tag_is_refused(tag):
    assert only_problem(entity(tags=["java", tag])).startswith(f"{SOURCE}: metadata.tags[1] ")


def test_an_uppercase_tag_is_refused_with_its_index():
    assert only_problem(entity(tags=["java", "python", "Go"])) == (
        f'{SOURCE}: metadata.tags[2] "Go" is not valid; expected sequences of [a-z0-9:+#] separated by [-], '
        "at most 63 characters"
    )


def test_tags_must_be_a_list_of_strings():
    assert only_problem(entity(tags="java")) == f"{SOURCE}: metadata.tags must be a list, not a string"
    assert only_problem(entity(tags=["java", 3])) == f"{SOURCE}: metadata.tags[1] must be a string, not a number"


@pytest.mark.parametrize(
    "key",
    ["app", "App.Name_1", "backstage.io/owner", "a.b.c/name", "x-y.io/n", "k" * 63, ("a" * 63 + ".") * 3 + "b/n"],
)
def test_a_valid_label_key_is_accepted(key):
    assert problems_of(entity(labels={key: "value"})) == []
    assert problems_of(entity(annotations={key: "value"})) == []


@pytest.mark.parametrize(
    "key",
    [
        "bad key",
        "a/b/c",
        "/name",
        "name/",
        "Example.io/name",
        "a..b/name",
        "-a.io/name",
        "io/-name",
        "k" * 64,
        ("a" * 63 + ".") * 4 + "b/n",  # a 257-character prefix
        "a" * 64 + ".io/name",
        "app\n",
    ],
)
def test_an_invalid_label_or_annotation_key_is_refused(key):
    assert only_problem(entity(labels={key: "value"})).startswith(f"{SOURCE}: metadata.labels key ")
    assert only_problem(entity(annotations={key: "value"})).startswith(f"{SOURCE}: metadata.annotations key ")


@pytest.mark.parametrize("value", ["", "v1", "v1.2_3-rc", "x" * 63])
def test_a_label_value_is_empty_or_like_a_name(value):
    assert problems_of(entity(labels={"version": value})) == []


@pytest.mark.parametrize("value", ["has space", "x" * 64, "-v1", "v1\n", "ünï"])
def test_a_label_value_unlike_a_name_is_refused(value):
    assert only_problem(entity(labels={"version": value})).startswith(f"{SOURCE}: metadata.labels.version ")


def test_a_label_value_under_a_prefixed_key_is_named_by_a_quoted_path():
    problem = only_problem(entity(labels={"app.kubernetes.io/name": "a b"}))
    assert problem.startswith(f'{SOURCE}: metadata.labels["app.kubernetes.io/name"] "a b" is not valid')


@pytest.mark.parametrize("value", ["", "any text: with spaces\nand lines", "https://example.com/x?y=1", "x" * 5000])
def test_an_annotation_value_may_be_any_string(value):
    assert problems_of(entity(annotations={"backstage.io/source-location": value})) == []


@pytest.mark.parametrize("field", ["labels", "annotations"])
def test_label_and_annotation_values_must_be_strings(field):
    assert only_problem(entity(**{field: {"n": 5}})) == f"{SOURCE}: metadata.{field}.n must be a string, not a number"
    assert only_problem(entity(**{field: ["n"]})) == f"{SOURCE}: metadata.{field} must be an object, not a list"


@pytest.mark.parametrize(
    "link",
    [
        {"url": "https://example.com"},
        {"url": "http://localhost:8080/docs?x=1#y", "title": "Docs", "icon": "docs", "type": "runbook"},
        {"url": "mailto:team@example.com"},
        {"url": "git+ssh://git.example.com/repo.git"},
    ],
)
def test_a_valid_link_is_accepted(link):
    assert problems_of(entity(links=[link])) == []


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "example.com",
        "/docs/index.html",
        "http://",
        "https://exa mple.com",
        "https://example.com/\n",
        "http://example.com:99999",
        "http://[::1",
        "mailto:",
        "1http://example.com",
        "",
        "javascript://example.com/%0Aalert(1)",
        "data://example.com/text/html,<script>alert(1)</script>",
        "vbscript://example.com/x",
    ],
)
def test_a_link_url_that_does_not_parse_or_could_run_script_is_refused(url):
    assert only_problem(entity(links=[{"url": url}])).startswith(f"{SOURCE}: metadata.links[0].url ")


def test_a_link_needs_a_url_string_and_string_details():
    assert only_problem(entity(links=[{"title": "Docs"}])) == f"{SOURCE}: metadata.links[0].url is required"
    assert only_problem(entity(links=[{"url": 5}])) == f"{SOURCE}: metadata.links[0].url must be a string, not a number"
    assert only_problem(entity(links=[{"url": "https://example.com", "title": 1}])) == (
        f"{SOURCE}: metadata.links[0].title must be a string, not a number"
    )


def test_links_must_be_a_list_of_objects():
    assert (
        only_problem(entity(links={"url": "https://x.io"})) == f"{SOURCE}: metadata.links must be a list, not an object"
    )
    assert (
        only_problem(entity(links=["https://x.io"])) == f"{SOURCE}: metadata.links[0] must be an object, not a string"
    )


def test_unknown_metadata_fields_are_left_alone():
    assert problems_of(entity(uid="123", etag="abc", custom={"x": 1})) == []


# --- kind rules -----------------------------------------------------------------------------------------------

REQUIRED_FIELDS = [
    ("Component", "type"),
    ("Component", "lifecycle"),
    ("Component", "owner"),
    ("System", "owner"),
    ("Domain", "owner"),
    ("Resource", "type"),
    ("Resource", "owner"),
    ("API", "type"),
    ("API", "lifecycle"),
    ("API", "owner"),
    ("API", "definition"),
    ("Group", "type"),
    ("Group", "children"),
    ("User", "memberOf"),
    ("Template", "type"),
    ("EditTemplate", "type"),
    ("ReverseProvisioningTemplate", "type"),
    ("AccessControlRequestTemplate", "type"),
]


@pytest.mark.parametrize(("kind", "field"), REQUIRED_FIELDS)
def test_a_required_spec_field_that_is_missing_is_reported(kind, field):
    document = entity(kind)
    del document["spec"][field]
    assert only_problem(document) == f"{SOURCE}: spec.{field} is required"


@pytest.mark.parametrize(("kind", "field"), REQUIRED_FIELDS)
def test_a_required_spec_field_that_is_null_is_reported_as_missing(kind, field):
    document = entity(kind)
    document["spec"][field] = None
    assert only_problem(document) == f"{SOURCE}: spec.{field} is required"


@pytest.mark.parametrize(("kind", "field"), [(k, f) for k, f in REQUIRED_FIELDS if f not in ("children", "memberOf")])
@pytest.mark.parametrize(
    ("value", "problem"), [("", "must be a non-empty string"), (["x"], "must be a non-empty string")]
)
def test_a_required_string_field_must_be_a_non_empty_string(kind, field, value, problem):
    document = entity(kind)
    document["spec"][field] = value
    assert only_problem(document).startswith(f"{SOURCE}: spec.{field} {problem}")


def test_an_entity_without_spec_reports_each_required_field():
    document = entity("API")
    del document["spec"]
    assert [problem.split(" ")[1] for problem in problems_of(document)] == [
        "spec.type",
        "spec.lifecycle",
        "spec.owner",
        "spec.definition",
    ]


def test_group_children_may_be_empty_but_must_be_a_list():
    assert problems_of(entity("Group", spec={"type": "team", "children": []})) == []
    assert only_problem(entity("Group", spec={"type": "team", "children": "group:a"})) == (
        f"{SOURCE}: spec.children must be a list, not a string"
    )


def test_user_member_of_must_be_a_list():
    assert problems_of(entity("User", spec={"memberOf": []})) == []
    assert only_problem(entity("User", spec={"memberOf": "finance"})) == (
        f"{SOURCE}: spec.memberOf must be a list, not a string"
    )


def test_group_and_user_profiles_are_objects():
    assert problems_of(entity("User", spec={"memberOf": [], "profile": {"email": "a@example.com"}})) == []
    assert only_problem(entity("Group", spec={"type": "team", "children": [], "profile": "x"})) == (
        f"{SOURCE}: spec.profile must be an object, not a string"
    )


@pytest.mark.parametrize(
    "spec",
    [
        {"target": "./a.yaml"},
        {"targets": ["./a.yaml", "./b/*.yaml"]},
        {"targets": []},
        {"type": "url", "target": "https://example.com/catalog-info.yaml", "presence": "optional"},
        {"target": "./a.yaml", "presence": "required"},
    ],
)
def test_a_location_with_a_target_or_targets_is_valid(spec):
    assert problems_of(entity("Location", spec=spec)) == []


def test_a_location_needs_a_target_or_targets():
    assert (
        only_problem(entity("Location", spec={"type": "url"})) == f"{SOURCE}: spec.target or spec.targets is required"
    )
    document = entity("Location")
    del document["spec"]
    assert only_problem(document) == f"{SOURCE}: spec.target or spec.targets is required"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"target": 5}, "spec.target must be a non-empty string, not a number"),
        ({"target": ""}, "spec.target must be a non-empty string"),
        ({"targets": "./a.yaml"}, "spec.targets must be a list, not a string"),
        ({"targets": ["./a.yaml", 5]}, "spec.targets[1] must be a string, not a number"),
        ({"targets": [""]}, "spec.targets[0] must be a non-empty string"),
        ({"target": "./a.yaml", "type": 1}, "spec.type must be a non-empty string, not a number"),
        (
            {"target": "./a.yaml", "presence": "sometimes"},
            'spec.presence "sometimes" is not valid; expected "required" or "optional"',
        ),
    ],
)
def test_an_invalid_location_spec_is_refused(spec, expected):
    assert only_problem(entity("Location", spec=spec)) == f"{SOURCE}: {expected}"


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "service", "steps": [{"id": "fetch", "action": "fetch:template"}]},
        {"type": "dataproduct", "parameters": [{"title": "Basics", "required": ["name"], "properties": {}}]},
        {"type": "outputport", "parameters": {"properties": {}}, "owner": "group:platform"},
    ],
)
def test_a_template_with_steps_or_meshforge_parameters_is_valid(spec):
    assert problems_of(entity("Template", spec=spec)) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"type": "service"}, "spec.steps or spec.parameters is required"),
        ({"type": "service", "steps": {"id": "x"}}, "spec.steps must be a list, not an object"),
        ({"type": "service", "parameters": "name"}, "spec.parameters must be a list or an object, not a string"),
    ],
)
def test_an_invalid_template_spec_is_refused(spec, expected):
    assert only_problem(entity("Template", spec=spec)) == f"{SOURCE}: {expected}"


@pytest.mark.parametrize("kind", ["System", "Domain"])
def test_system_and_domain_types_are_optional_strings(kind):
    assert problems_of(entity(kind, spec={"owner": "a", "type": "product-area"})) == []
    assert only_problem(entity(kind, spec={"owner": "a", "type": 3})) == (
        f"{SOURCE}: spec.type must be a non-empty string, not a number"
    )


# --- references in spec --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "path", "text", "problem"),
    [
        ({"owner": "group:"}, "spec.owner", "group:", "has an empty name"),
        ({"owner": ":finance"}, "spec.owner", ":finance", "has an empty kind"),
        ({"system": "system:/x"}, "spec.system", "system:/x", "has an empty namespace"),
        ({"subcomponentOf": "/x"}, "spec.subcomponentOf", "/x", "has an empty namespace"),
        ({"dependsOn": ["resource:db", "k:ns/"]}, "spec.dependsOn[1]", "k:ns/", "has an empty name"),
        ({"dependencyOf": [":x"]}, "spec.dependencyOf[0]", ":x", "has an empty kind"),
        ({"providesApis": ["api:"]}, "spec.providesApis[0]", "api:", "has an empty name"),
        ({"consumesApis": ["x" * 64]}, "spec.consumesApis[0]", "x" * 64, "has a name longer than 63 characters"),
    ],
)
def test_a_component_reference_that_does_not_parse_is_refused_naming_path_and_problem(spec, path, text, problem):
    assert only_problem(component(**spec)) == f'{SOURCE}: {path} "{text}" is not a valid entity reference; it {problem}'


@pytest.mark.parametrize(
    "spec",
    [
        {"owner": "finance"},
        {"owner": "user:alice"},
        {"owner": "ops/finance"},
        {"owner": "group:ops/finance"},
        {"owner": "ns/a:b"},
        {"system": "finance.cashflow.0"},
        {"subcomponentOf": "payments-core"},
        {"dependsOn": ["resource:payments-db", "payments-core"], "dependencyOf": ["component:checkout"]},
        {"providesApis": ["payments-api"], "consumesApis": ["api:ops/ledger-api"]},
        {"dependsOn": []},
    ],
)
def test_a_component_reference_that_parses_is_accepted(spec):
    assert problems_of(component(**spec)) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"dependsOn": "resource:db"}, "spec.dependsOn must be a list of entity references, not a string"),
        ({"providesApis": {"a": 1}}, "spec.providesApis must be a list of entity references, not an object"),
        ({"dependsOn": ["resource:db", 5]}, "spec.dependsOn[1] must be a non-empty string, not a number"),
        ({"system": ["a"]}, "spec.system must be a non-empty string, not a list"),
        ({"system": ""}, "spec.system must be a non-empty string"),
        ({"subcomponentOf": None}, "spec.subcomponentOf must be a non-empty string, not null"),
    ],
)
def test_a_reference_field_of_the_wrong_type_is_refused(spec, expected):
    assert only_problem(component(**spec)) == f"{SOURCE}: {expected}"


@pytest.mark.parametrize(
    ("kind", "spec", "path"),
    [
        ("System", {"owner": "a", "domain": "domain:"}, "spec.domain"),
        ("Domain", {"owner": "a", "subdomainOf": ":x"}, "spec.subdomainOf"),
        ("Resource", {"type": "db", "owner": "a", "system": "/x"}, "spec.system"),
        ("Resource", {"type": "db", "owner": "a", "dependsOn": ["k:/x"]}, "spec.dependsOn[0]"),
        ("API", {"type": "openapi", "lifecycle": "x", "owner": "a", "definition": "x", "system": "x:"}, "spec.system"),
        ("Group", {"type": "team", "children": ["group:"]}, "spec.children[0]"),
        ("Group", {"type": "team", "children": [], "parent": ":x"}, "spec.parent"),
        ("Group", {"type": "team", "children": [], "members": ["user:"]}, "spec.members[0]"),
        ("User", {"memberOf": ["finance", ":x"]}, "spec.memberOf[1]"),
        ("Template", {"type": "service", "steps": [], "owner": "group:"}, "spec.owner"),
        ("EditTemplate", {"type": "outputport", "owner": "/x"}, "spec.owner"),
    ],
)
def test_references_of_every_kind_must_parse(kind, spec, path):
    assert only_problem(entity(kind, spec=spec)).startswith(f"{SOURCE}: {path} ")
