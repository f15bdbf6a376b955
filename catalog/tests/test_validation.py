"""Tests for catalog.validation.validate_entity: the Backstage envelope, metadata and kind rules (PRODUCT §3.1), as
Backstage's own validators apply them, and Meshforge's kinds and templates on top.

Data product rules are in test_validation_dataproducts.py, relations and the stored form in test_relations.py; the
agreement with Backstage's published validators on generated entities in tests/interop/test_backstage_validation.py.
"""

import copy
import json

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
    "Template": {"type": "service", "steps": [{"action": "fetch:template"}]},
    "EditTemplate": {"type": "outputport"},
    "ReverseProvisioningTemplate": {"type": "outputport"},
    "AccessControlRequestTemplate": {"type": "outputport"},
}


def entity(kind: str = "Component", name: str = "payments", spec: dict | None = None, **metadata) -> dict:
    api_version = "scaffolder.backstage.io/v1beta3" if kind == "Template" else "backstage.io/v1alpha1"
    document = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, **metadata}}
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


def test_every_kind_of_backstage_needs_a_spec():
    document = entity("Location")
    del document["spec"]
    assert only_problem(document) == f"{SOURCE}: spec is required"


@pytest.mark.parametrize("kind", ["Component", "Location", "EditTemplate"])
@pytest.mark.parametrize(("value", "shown"), [(["a"], "a list"), ("text", "a string"), (None, "null")])
def test_spec_must_be_an_object(kind, value, shown):
    document = entity(kind)
    document["spec"] = value
    assert only_problem(document) == f"{SOURCE}: spec must be an object, not {shown}"


@pytest.mark.parametrize(("value", "problem"), [("", "must be a non-empty string"), (1, "must be a non-empty string")])
def test_api_version_must_be_a_non_empty_string(value, problem):
    document = entity()
    document["apiVersion"] = value
    assert only_problem(document).startswith(f"{SOURCE}: apiVersion {problem}")


@pytest.mark.parametrize(
    "api_version", ["backstage.io/v1alpha1/x", "backstage.io/", "/v1", "Backstage.io/v1alpha1", "v1-alpha", "x" * 64]
)
def test_an_api_version_of_the_wrong_form_is_refused(api_version):
    document = entity()
    document["apiVersion"] = api_version
    assert only_problem(document).startswith(f"{SOURCE}: apiVersion {json.dumps(api_version)} is not valid; expected ")


@pytest.mark.parametrize("kind", ["Component", "API", "Resource", "System", "Domain", "Group", "User", "Location"])
@pytest.mark.parametrize("api_version", ["backstage.io/v1alpha1", "backstage.io/v1beta1"])
def test_backstage_kinds_take_both_of_backstages_api_versions(kind, api_version):
    document = entity(kind)
    document["apiVersion"] = api_version
    assert problems_of(document) == []


@pytest.mark.parametrize("api_version", ["backstage.io/v1", "backstage.io/v2alpha1", "scaffolder.backstage.io/v1beta3"])
def test_an_api_version_backstage_does_not_know_for_the_kind_is_refused(api_version):
    document = entity()
    document["apiVersion"] = api_version
    assert only_problem(document) == (
        f'{SOURCE}: apiVersion "{api_version}" is not valid for kind Component; '
        "expected backstage.io/v1alpha1 or backstage.io/v1beta1"
    )


def test_a_backstage_template_needs_the_scaffolder_api_version():
    document = entity("Template")
    document["apiVersion"] = "backstage.io/v1beta2"
    assert only_problem(document) == (
        f'{SOURCE}: apiVersion "backstage.io/v1beta2" is not valid for kind Template; expected '
        "scaffolder.backstage.io/v1beta3, or a Meshforge template (one with spec.mesh)"
    )


@pytest.mark.parametrize("api_version", ["backstage.io/v1alpha1", "meshforge.io/v1", "v1"])
def test_meshforge_kinds_take_any_well_formed_api_version(api_version):
    document = entity("EditTemplate")
    document["apiVersion"] = api_version
    assert problems_of(document) == []


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


@pytest.mark.parametrize("key", ["relations", "status"])
def test_relations_and_status_in_a_file_are_refused(key):
    document = entity()
    document[key] = []
    assert only_problem(document) == (
        f"{SOURCE}: {key} is not allowed in a file; the catalog makes relations and status itself"
    )


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


@pytest.mark.parametrize("kind", ["MyKind", "k", "Kind2", "Service", "K" * 63])
def test_a_kind_the_catalog_does_not_know_is_refused_naming_the_kinds_it_knows(kind):
    assert only_problem(entity(kind)) == (
        f"{SOURCE}: kind {json.dumps(kind)} is not a kind the catalog knows; expected one of API, Component, Domain, "
        "Group, Location, Resource, System, Template, User (Backstage's) or EditTemplate, ReverseProvisioningTemplate, "
        "AccessControlRequestTemplate (Meshforge's)"
    )


@pytest.mark.parametrize("kind", ["my-kind", "2Kind", "Kind\n", "My Kind", "", "K" * 64, "Kïnd"])
def test_a_kind_of_other_characters_is_refused(kind):
    assert only_problem(entity(kind)).startswith(f"{SOURCE}: kind ")


def test_a_kind_that_is_not_a_string_is_refused():
    assert only_problem(entity(5)) == f"{SOURCE}: kind must be a string, not a number"


@pytest.mark.parametrize(
    ("kind", "known"), [("component", "Component"), ("Api", "API"), ("editTemplate", "EditTemplate")]
)
def test_kinds_are_case_sensitive_as_in_backstage(kind, known):
    assert only_problem(entity(kind, spec=MINIMAL_SPECS[known])) == (
        f'{SOURCE}: kind "{kind}" is not a kind the catalog knows; kinds are case-sensitive: did you mean {known}?'
    )


def test_an_unknown_kind_still_gets_the_envelope_and_metadata_checks():
    assert problems_of(entity("Widget", name="bad-", spec={"owner": ":x"}))[1:] == [
        f'{SOURCE}: metadata.name "bad-" is not valid; expected sequences of [a-zA-Z0-9] separated by [-_.], '
        "at most 63 characters"
    ]


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


@pytest.mark.parametrize("namespace", ["default", "ops", "team-a", "a1-b2-c3", "team--a", "a---b", "n" * 63])
def test_a_valid_namespace_is_accepted(namespace):
    assert problems_of(entity(namespace=namespace)) == []


@pytest.mark.parametrize("namespace", ["Ops", "team_a", "team-", "-team", "n" * 64, "ops\n", "", "a.b", " ops"])
def test_an_invalid_namespace_is_refused(namespace):
    assert only_problem(entity(namespace=namespace)).startswith(f"{SOURCE}: metadata.namespace ")


def test_a_namespace_that_is_not_a_string_is_refused():
    assert only_problem(entity(namespace=None)) == f"{SOURCE}: metadata.namespace must be a string, not null"


def test_title_and_description_must_be_strings_and_a_title_not_empty():
    assert problems_of(entity(title="Payments", description="")) == []
    assert problems_of(entity(title=" ", description=" ")) == []
    assert only_problem(entity(description=["x"])) == f"{SOURCE}: metadata.description must be a string, not a list"
    assert only_problem(entity(title=["x"])) == f"{SOURCE}: metadata.title must be a non-empty string, not a list"
    assert only_problem(entity(title="")) == f"{SOURCE}: metadata.title must be a non-empty string"


@pytest.mark.parametrize("field", ["uid", "etag"])
@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (1, "must be a non-empty string, not a number"),
        ("", "must be a non-empty string"),
        (None, "must be a non-empty string, not null"),
    ],
)
def test_uid_and_etag_in_a_file_must_be_non_empty_strings(field, value, problem):
    assert problems_of(entity(**{field: "e01199ab-08cc-44c2-8e19-5c29ded82521"})) == []
    assert only_problem(entity(**{field: value})) == f"{SOURCE}: metadata.{field} {problem}"


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
        {"url": "http:example.com"},
        {"url": "urn:isbn:0451450523"},
        {"url": "mailto:"},
        {"url": "https://example.com/a b"},
        {"url": " https://example.com/\n"},
        {"url": "http://[::1]:8080/"},
        {"url": "http://bücher.example/"},
        {"url": "https://example.com", "type": " "},
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
        "http://example.com:99999",
        "http://[::1",
        "http://1.2.3.256/",
        "http://user@/",
        "git+ssh://git@example.com:org/repo.git",
        "1http://example.com",
        "",
        "javascript://example.com/%0Aalert(1)",
        "JavaScript:alert(1)",
        " java\tscript:alert(1)",
    ],
)
def test_a_link_url_that_does_not_parse_or_runs_script_is_refused(url):
    assert only_problem(entity(links=[{"url": url}])).startswith(f"{SOURCE}: metadata.links[0].url ")


def test_a_javascript_link_is_refused_saying_why():
    assert only_problem(entity(links=[{"url": "javascript:alert(1)"}])) == (
        f'{SOURCE}: metadata.links[0].url "javascript:alert(1)" is not allowed; a javascript: link runs code in the '
        "browser of whoever follows it"
    )


def test_a_link_needs_a_url_string_and_string_details():
    assert only_problem(entity(links=[{"title": "Docs"}])) == f"{SOURCE}: metadata.links[0].url is required"
    assert only_problem(entity(links=[{"url": 5}])) == (
        f"{SOURCE}: metadata.links[0].url must be a non-empty string, not a number"
    )
    assert only_problem(entity(links=[{"url": "https://example.com", "title": 1}])) == (
        f"{SOURCE}: metadata.links[0].title must be a non-empty string, not a number"
    )


@pytest.mark.parametrize("field", ["title", "icon"])
def test_a_link_title_or_icon_is_not_empty_or_blank(field):
    link = {"url": "https://example.com"}
    assert only_problem(entity(links=[{**link, field: ""}])) == (
        f"{SOURCE}: metadata.links[0].{field} must be a non-empty string"
    )
    blank = {**link, field: " \t"}
    assert only_problem(entity(links=[blank])) == f"{SOURCE}: metadata.links[0].{field} must not be blank"


def test_links_must_be_a_list_of_objects():
    assert (
        only_problem(entity(links={"url": "https://x.io"})) == f"{SOURCE}: metadata.links must be a list, not an object"
    )
    assert (
        only_problem(entity(links=["https://x.io"])) == f"{SOURCE}: metadata.links[0] must be an object, not a string"
    )


def test_unknown_metadata_fields_are_left_alone():
    assert problems_of(entity(uid="123", etag="abc", custom={"x": 1}, generation=3)) == []


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


@pytest.mark.parametrize(("kind", "field"), [(k, f) for k, f in REQUIRED_FIELDS if f not in ("children", "memberOf")])
def test_a_blank_string_is_a_string_for_backstage_kinds_not_for_meshforge_kinds(kind, field):
    document = entity(kind)
    document["spec"][field] = "  "
    if kind in ("EditTemplate", "ReverseProvisioningTemplate", "AccessControlRequestTemplate"):
        assert only_problem(document) == f"{SOURCE}: spec.{field} must be a non-empty string"
    else:
        assert problems_of(document) == []


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
        f"{SOURCE}: spec.children must be a list of entity references, not a string"
    )


def test_user_member_of_must_be_a_list():
    assert problems_of(entity("User", spec={"memberOf": []})) == []
    assert only_problem(entity("User", spec={"memberOf": "finance"})) == (
        f"{SOURCE}: spec.memberOf must be a list of entity references, not a string"
    )


def test_group_and_user_profiles_are_objects():
    profile = {"displayName": "Alice", "email": "a@example.com", "picture": "https://example.com/a.png", "x": 1}
    assert problems_of(entity("User", spec={"memberOf": [], "profile": profile})) == []
    assert only_problem(entity("Group", spec={"type": "team", "children": [], "profile": "x"})) == (
        f"{SOURCE}: spec.profile must be an object, not a string"
    )


@pytest.mark.parametrize("kind", ["Group", "User"])
@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ({"displayName": 1}, "spec.profile.displayName must be a non-empty string, not a number"),
        ({"email": ""}, "spec.profile.email must be a non-empty string"),
        ({"picture": ["a.png"]}, "spec.profile.picture must be a non-empty string, not a list"),
    ],
)
def test_profile_fields_are_non_empty_strings(kind, profile, expected):
    document = entity(kind)
    document["spec"]["profile"] = profile
    assert only_problem(document) == f"{SOURCE}: {expected}"


@pytest.mark.parametrize(
    "spec",
    [
        {"target": "./a.yaml"},
        {"targets": ["./a.yaml", "./b/*.yaml"]},
        {"targets": []},
        {"type": "url", "target": "https://example.com/catalog-info.yaml", "presence": "optional"},
        {"target": "./a.yaml", "presence": "required"},
        {"type": "url"},
        {},
        {"target": " ", "type": " "},
    ],
)
def test_a_location_may_have_a_target_targets_or_neither(spec):
    assert problems_of(entity("Location", spec=spec)) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"target": 5}, "spec.target must be a non-empty string, not a number"),
        ({"target": ""}, "spec.target must be a non-empty string"),
        ({"targets": "./a.yaml"}, "spec.targets must be a list, not a string"),
        ({"targets": ["./a.yaml", 5]}, "spec.targets[1] must be a non-empty string, not a number"),
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


FULL_TEMPLATE = {
    "type": "service",
    "owner": "group:platform",
    "lifecycle": "production",
    "parameters": [
        {"title": "Basics", "required": ["name"], "properties": {}, "when": "${{ true }}"},
        {"backstage:permissions": {"tags": ["admin"]}, "when": False},
    ],
    "secrets": {"schema": {"properties": {}}},
    "presentation": {"buttonLabels": {"backButtonText": "Back", "createButtonText": "Go", "reviewButtonText": "Look"}},
    "EXPERIMENTAL_recovery": {"EXPERIMENTAL_strategy": "startOver"},
    "formDecorators": [{"id": "decorate", "input": {}}],
    "steps": [
        {"id": "fetch", "name": "Fetch", "action": "fetch:template", "input": {"url": "./skeleton"}, "if": True},
        {"action": "", "backstage:permissions": {"tags": []}},
    ],
    "output": {
        "links": [{"title": "Repository", "url": "${{ steps.publish.output.remoteUrl }}", "if": "x"}],
        "text": [{"title": "Done", "content": "**done**"}],
        "remoteUrl": "${{ steps.publish.output.remoteUrl }}",
    },
}


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "service", "steps": []},
        {"type": "service", "steps": [{"action": "debug:log"}], "parameters": {"properties": {}}},
        FULL_TEMPLATE,
    ],
)
def test_a_backstage_template_with_steps_is_valid(spec):
    assert problems_of(entity("Template", spec=spec)) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"type": "service"}, "spec.steps is required"),
        ({"type": "service", "steps": {"id": "x"}}, "spec.steps must be a list, not an object"),
        ({"type": "service", "steps": [{"id": "fetch"}]}, "spec.steps[0].action is required"),
        ({"type": "service", "steps": [{"action": 1}]}, "spec.steps[0].action must be a string, not a number"),
        ({"type": "service", "steps": ["fetch:template"]}, "spec.steps[0] must be an object, not a string"),
        (
            {"type": "service", "steps": [{"action": "a", "if": 1}]},
            "spec.steps[0].if must be a string or a boolean, not a number",
        ),
        (
            {"type": "service", "steps": [{"action": "a", "input": []}]},
            "spec.steps[0].input must be an object, not a list",
        ),
        (
            {"type": "service", "steps": [], "parameters": "name"},
            "spec.parameters must be an object or a list, not a string",
        ),
        (
            {"type": "service", "steps": [], "parameters": ["name"]},
            "spec.parameters[0] must be an object, not a string",
        ),
        (
            {"type": "service", "steps": [], "parameters": [{"when": 1}]},
            "spec.parameters[0].when must be a string or a boolean, not a number",
        ),
        (
            {"type": "service", "steps": [], "parameters": {"backstage:permissions": {"tags": [1]}}},
            'spec.parameters["backstage:permissions"].tags[0] must be a string, not a number',
        ),
        ({"type": "service", "steps": [], "output": "done"}, "spec.output must be an object, not a string"),
        ({"type": "service", "steps": [], "output": {"url": 1}}, "spec.output.url must be a string, not a number"),
        (
            {"type": "service", "steps": [], "output": {"links": [{"url": ""}]}},
            "spec.output.links[0].url must be a non-empty string",
        ),
        (
            {"type": "service", "steps": [], "output": {"text": [{"content": 1}]}},
            "spec.output.text[0].content must be a string, not a number",
        ),
        ({"type": "service", "steps": [], "secrets": []}, "spec.secrets must be an object, not a list"),
        ({"type": "service", "steps": [], "lifecycle": ""}, "spec.lifecycle must be a non-empty string"),
    ],
)
def test_an_invalid_backstage_template_spec_is_refused(spec, expected):
    assert only_problem(entity("Template", spec=spec)) == f"{SOURCE}: {expected}"


MESHFORGE_TEMPLATE = {"type": "outputport", "mesh": {"useCaseTemplateId": "urn:dmb:utm:x:0.0.0"}}


@pytest.mark.parametrize("api_version", ["backstage.io/v1alpha1", "scaffolder.backstage.io/v1beta3", "witboost.com/v1"])
@pytest.mark.parametrize(
    "extra",
    [
        {"parameters": [{"title": "Basics", "required": ["name"], "properties": {}}]},
        {"parameters": {"properties": {}}, "owner": "group:platform"},
        {"steps": [{"action": "witboost:create"}]},
    ],
)
def test_a_meshforge_template_has_spec_mesh_and_steps_or_parameters_under_any_api_version(api_version, extra):
    document = entity("Template", spec={**MESHFORGE_TEMPLATE, **extra})
    document["apiVersion"] = api_version
    assert problems_of(document) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (MESHFORGE_TEMPLATE, "spec.steps or spec.parameters is required"),
        ({**MESHFORGE_TEMPLATE, "parameters": "name"}, "spec.parameters must be an object or a list, not a string"),
        ({**MESHFORGE_TEMPLATE, "steps": [{"id": "x"}]}, "spec.steps[0].action is required"),
        ({**MESHFORGE_TEMPLATE, "parameters": [], "mesh": "x"}, "spec.mesh must be an object, not a string"),
        ({"mesh": {}, "parameters": []}, "spec.type is required"),
    ],
)
def test_an_invalid_meshforge_template_spec_is_refused(spec, expected):
    document = entity("Template", spec=spec)
    document["apiVersion"] = "backstage.io/v1alpha1"
    assert only_problem(document) == f"{SOURCE}: {expected}"


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
        (
            {"dependsOn": ["resource:db", "ledger"]},
            "spec.dependsOn[1]",
            "ledger",
            "has no kind, and a kind is required here (write kind:[namespace/]name)",
        ),
        (
            {"dependencyOf": "ns/ledger"},
            "spec.dependencyOf",
            "ns/ledger",
            "has no kind, and a kind is required here (write kind:[namespace/]name)",
        ),
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
        {"dependsOn": ["resource:payments-db", "component:payments-core"], "dependencyOf": ["component:checkout"]},
        {"providesApis": ["payments-api"], "consumesApis": ["api:ops/ledger-api"]},
        {"dependsOn": []},
        {"owner": " "},
        {"owner": "group: "},
        {"owner": "group:" + "x" * 64},
        {"system": "a/b/c"},
        {"owner": "group:team--a/finance"},
        {"dependencyOf": "component:checkout"},
        {"dependencyOf": None},
        {"dependencyOf": ""},
        {"dependencyOf": []},
    ],
)
def test_a_component_reference_that_backstage_reads_is_accepted(spec):
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
        ({"dependsOn": [""]}, "spec.dependsOn[0] must be a non-empty string"),
        ({"dependencyOf": 5}, "spec.dependencyOf must be an entity reference or a list of them, not a number"),
        ({"dependencyOf": ["component:a", None]}, "spec.dependencyOf[1] must be a non-empty string, not null"),
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
        ("Template", {**MESHFORGE_TEMPLATE, "parameters": [], "owner": "group:"}, "spec.owner"),
        ("EditTemplate", {"type": "outputport", "owner": "/x"}, "spec.owner"),
    ],
)
def test_references_of_every_kind_must_parse(kind, spec, path):
    assert only_problem(entity(kind, spec=spec)).startswith(f"{SOURCE}: {path} ")
