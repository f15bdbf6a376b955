"""Reverse provisioning (PRODUCT §6) of an output port made through the Builder in Git, against the external adapter
process: a run keeps the adapter's dot-path updates for review, the preview is a diff of the component's
``catalog-info.yaml``, confirming commits exactly those updates (and the catalog reads them), a stale base or updates
that cannot be written commit nothing, an adapter's refusal is shown as it said it, and only the product's owners
and staff may do any of it — through the services, the pages and the API."""

from __future__ import annotations

import git
import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from catalog.models import Entity
from core.models import AuditEvent
from dataproducts.exceptions import StaleEdit, ValuesInvalid
from dataproducts.gitops.patch import entity_file_patch
from dataproducts.selectors import component_get, entity_file
from dataproducts.tests import conftest as builder_conftest
from dataproducts.tests.conftest import dataproduct_create_shared, port_values
from provisioning import reverse as services
from provisioning.choices import ReverseProvisioningStatus as Status
from provisioning.models import ReverseProvisioning, TechAdapter
from provisioning.testing import ExternalAdapter

# the Builder's fixtures for a product made once per module through Git (pytest finds fixtures by the names a
# module holds)
builder_dirs = builder_conftest.builder_dirs
templates_published = builder_conftest.templates_published
templates_registered = builder_conftest.templates_registered
templates_location_shared = builder_conftest.templates_location_shared
shared_files = builder_conftest.shared_files
shared_catalog = builder_conftest.shared_catalog
shared_git = builder_conftest.shared_git

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_git")]

PORT = "finance.cashflow.0.daily-balances"
TEMPLATE = "urn:dmb:itm:postgres:1"
MESSAGE = f"Reverse provisioning from {TEMPLATE} (development)"
READ_BACK = [
    {"name": "day", "dataType": "DATE", "description": "The day", "constraint": "PRIMARY_KEY"},
    {"name": "balance", "dataType": "DECIMAL", "precision": 14, "scale": 2, "description": "End of day balance"},
    {"name": "currency", "dataType": "CHAR", "dataLength": 3},
]
UPDATES = {"spec.mesh.dataContract.schema": READ_BACK}


@pytest.fixture(scope="module")
def cashflow_port(shared_git):
    """finance.cashflow.0 with its output port daily-balances, made once for the module through the Builder."""
    dataproduct_create_shared(shared_git, components=[port_values()])
    return PORT


@pytest.fixture(scope="module")
def adapter_process():
    with ExternalAdapter() as running:
        yield running


@pytest.fixture
def port(cashflow_port):
    return component_get(name=cashflow_port)


@pytest.fixture
def registered(adapter_process):
    return TechAdapter.objects.create(
        infrastructure_template_id=TEMPLATE, environment="development", url=adapter_process.url, poll_interval=0.05
    )


def repo(settings) -> git.Repo:
    return git.Repo(settings.MESHFORGE_GIT_ROOT / "finance" / "cashflow.git")


def run(port, actor, **params) -> ReverseProvisioning:
    return services.reverse_provisioning_run(component=port, environment="development", actor=actor, params=params)


def contract_in_catalog() -> list:
    entity = Entity.objects.get(ref=f"component:default/{PORT}")
    return entity.spec["mesh"]["dataContract"]["schema"]


# --- running -------------------------------------------------------------------------------------------------------


def test_a_run_keeps_the_adapters_updates_for_review_and_changes_nothing(port, registered, alice, settings):
    head = repo(settings).commit("main").hexsha

    done = run(port, alice, updates=UPDATES)

    assert done.status == Status.READY
    assert done.updates == UPDATES
    assert [log["message"] for log in done.logs] == ["reverse provisioning done"]
    assert done.adapter == registered and done.adapter_url == registered.url
    assert done.base_revision == entity_file(entity=port.entity).revision
    assert done.component_name == PORT and done.product.dp_id == "urn:dmb:dp:finance:cashflow:0"
    assert done.created_by == alice and done.finished_at is not None
    assert repo(settings).commit("main").hexsha == head
    assert AuditEvent.objects.filter(action="provisioning.reverse_run", object_id=str(done.pk)).exists()


def test_the_adapter_is_given_the_components_catalog_info_from_git(port, registered, alice, monkeypatch):
    sent = []
    real = services.adapter_client

    def recording(adapter):
        client = real(adapter)
        answer = client.reverse_provision

        def reverse_provision(request, **kwargs):
            sent.append(request)
            return answer(request, **kwargs)

        client.reverse_provision = reverse_provision
        return client

    monkeypatch.setattr(services, "adapter_client", recording)
    run(port, alice, table="balances")

    (request,) = sent
    assert request["useCaseTemplateId"] == "urn:dmb:utm:postgres-outputport-template:0.0.0"
    assert request["environment"] == "development"
    assert request["params"] == {"table": "balances"}
    assert request["catalogInfo"]["metadata"]["name"] == PORT
    assert request["catalogInfo"]["spec"]["mesh"]["dataContract"]["schema"][0]["name"] == "day"


def test_an_asynchronous_reverse_provisioning_is_polled_to_its_updates(port, registered, alice):
    done = run(port, alice, mode="async", polls=2)
    assert done.status == Status.READY
    assert done.updates == {"spec.mesh.description": "Read back from development"}


@pytest.mark.parametrize(
    ("params", "reason", "problems"),
    [
        ({"mode": "fail"}, "reverse provisioning failed on demand", []),
        (
            {"mode": "bad400"},
            "HTTP 400 from POST /v1/reverse-provisioning: The request is not valid for this adapter",
            ["specific.database is missing"],
        ),
        (
            {"mode": "error500json"},
            "HTTP 500 from POST /v1/reverse-provisioning: The platform did not answer",
            ["connection reset"],
        ),
        ({"mode": "error500text"}, "HTTP 500 from POST /v1/reverse-provisioning: Internal Server Error", []),
    ],
    ids=["failed", "400", "500-json", "500-text"],
)
def test_an_adapter_that_refuses_fails_the_run_with_its_reason(port, registered, alice, params, reason, problems):
    done = run(port, alice, **params)

    assert done.status == Status.FAILED
    assert done.error == reason
    assert done.updates == {}
    assert (done.error_detail or {}).get("problems", []) == problems
    with pytest.raises(services.ReverseProvisioningStateError):
        services.reverse_provisioning_preview(run=done)


def test_no_adapter_for_the_environment_is_a_400_naming_it_and_records_nothing(port, registered, alice):
    with pytest.raises(services.ReverseProvisioningRefused) as refused:
        services.reverse_provisioning_run(component=port, environment="qa", actor=alice)
    assert refused.value.field == "environment"
    assert str(refused.value) == f"no tech adapter is registered for infrastructureTemplateId {TEMPLATE} in qa"
    with pytest.raises(services.ReverseProvisioningRefused) as refused:
        services.reverse_provisioning_run(component=port, environment="staging", actor=alice)
    assert refused.value.field == "environment"
    assert not ReverseProvisioning.objects.exists()


def test_another_team_may_not_run_it_and_nothing_is_recorded(port, registered, bob, carol):
    for person in (bob, carol):
        with pytest.raises(PermissionDenied):
            run(port, person, updates=UPDATES)
    assert not ReverseProvisioning.objects.exists()
    assert registered.url  # the adapter was there: only the person was refused


# --- review --------------------------------------------------------------------------------------------------------


def test_the_preview_is_a_diff_of_the_changed_lines_of_catalog_info(port, registered, alice, settings):
    head = repo(settings).commit("main").hexsha
    patch = services.reverse_provisioning_preview(run=run(port, alice, updates=UPDATES))

    assert patch.changed and patch.path.endswith("catalog-info.yaml")
    assert patch.revision == entity_file(entity=port.entity).revision
    changed = [row for row in patch.diff if row.change not in ("equal", "skip")]
    assert any("balance" in row.old and '"precision": 14, "scale": 2}' in row.new for row in changed)
    assert any("currency" in row.new and not row.old for row in changed)
    # one row per column, as the skeleton writes them: only the changed and the new column differ
    assert len(changed) == 2
    assert repo(settings).commit("main").hexsha == head


def test_confirming_commits_the_updates_and_the_catalog_reads_them(port, registered, alice, settings):
    done = run(port, alice, updates=UPDATES)
    patch = services.reverse_provisioning_preview(run=done)

    applied = services.reverse_provisioning_apply(run=done, actor=alice, base_revision=patch.revision)

    head = repo(settings).commit("main")
    assert applied.status == Status.APPLIED and applied.commit_sha == head.hexsha
    assert head.message.strip() == MESSAGE
    assert (head.tree / patch.path).data_stream.read().decode() == patch.new_text
    assert contract_in_catalog() == READ_BACK
    assert AuditEvent.objects.filter(action="provisioning.reverse_apply", object_id=str(done.pk)).exists()
    with pytest.raises(services.ReverseProvisioningStateError):
        services.reverse_provisioning_apply(run=applied, actor=alice, base_revision=head.hexsha)


def test_a_file_changed_since_the_preview_is_refused_and_nothing_is_committed(port, registered, alice, settings):
    done = run(port, alice, updates=UPDATES)
    previewed = services.reverse_provisioning_preview(run=done).revision
    entity_file_patch(
        entity=port.entity,
        patch=lambda document: document["metadata"].__setitem__("description", "Changed meanwhile"),
        actor=alice,
        message="Someone else",
        audit_action="entity.edit",
    )
    head = repo(settings).commit("main").hexsha

    with pytest.raises(StaleEdit):
        services.reverse_provisioning_apply(run=done, actor=alice, base_revision=previewed)

    assert repo(settings).commit("main").hexsha == head
    done.refresh_from_db()
    assert done.status == Status.READY and not done.commit_sha
    # the new preview is made against the file as it is now, and confirms
    patch = services.reverse_provisioning_preview(run=done)
    assert patch.revision == head and "Changed meanwhile" in patch.new_text
    assert services.reverse_provisioning_apply(run=done, actor=alice, base_revision=head).status == Status.APPLIED


def test_updates_that_cross_a_value_that_is_not_a_mapping_are_refused_naming_the_path(port, registered, alice):
    done = run(port, alice, updates={"spec.mesh.platform.version": "16", "spec.mesh.technology": "PostgreSQL 16"})

    with pytest.raises(ValuesInvalid) as refused:
        services.reverse_provisioning_preview(run=done)
    assert refused.value.errors == {
        "spec.mesh.platform.version": ["crosses spec.mesh.platform, which is a string, not a mapping"]
    }
    revision = entity_file(entity=port.entity).revision
    with pytest.raises(ValuesInvalid):
        services.reverse_provisioning_apply(run=done, actor=alice, base_revision=revision)
    assert entity_file(entity=port.entity).revision == revision


def test_updates_that_make_the_document_invalid_are_refused(port, registered, alice):
    done = run(port, alice, updates={"spec.lifecycle": ""})
    with pytest.raises(ValuesInvalid) as refused:
        services.reverse_provisioning_preview(run=done)
    assert "lifecycle" in str(refused.value)


def test_updates_that_would_change_the_components_identity_are_refused(port, registered, alice):
    done = run(port, alice, updates={"metadata.name": "finance.cashflow.0.other", "spec": {"type": "storage"}})
    with pytest.raises(ValuesInvalid) as refused:
        services.reverse_provisioning_preview(run=done)
    assert refused.value.errors["metadata.name"] == [
        "would change metadata.name, which reverse provisioning never changes"
    ]
    assert "would change spec.owner" in " ".join(refused.value.errors["spec"])


def test_discarding_drops_the_updates_for_good(port, registered, alice, bob):
    done = run(port, alice, updates=UPDATES)
    with pytest.raises(PermissionDenied):
        services.reverse_provisioning_discard(run=done, actor=bob)

    services.reverse_provisioning_discard(run=done, actor=alice)

    assert done.status == Status.DISCARDED and done.decided_at is not None
    revision = entity_file(entity=port.entity).revision
    with pytest.raises(services.ReverseProvisioningStateError):
        services.reverse_provisioning_apply(run=done, actor=alice, base_revision=revision)
    with pytest.raises(services.ReverseProvisioningStateError):
        services.reverse_provisioning_discard(run=done, actor=alice)


def test_another_team_may_not_apply_the_updates(port, registered, alice, bob, settings):
    done = run(port, alice, updates=UPDATES)
    head = repo(settings).commit("main").hexsha
    with pytest.raises(PermissionDenied):
        services.reverse_provisioning_apply(run=done, actor=bob, base_revision=head)
    assert repo(settings).commit("main").hexsha == head


# --- the dot paths, on a plain document ----------------------------------------------------------------------------


def test_a_dot_path_names_nested_keys_made_when_missing_and_replaces_lists_whole():
    document = {"spec": {"mesh": {"tags": ["a", "b", "c"], "specific": {"keep": 1}}}}
    services.updates_apply(
        document,
        {
            "spec.mesh.tags": ["z"],
            "spec.mesh.specific.view": "daily",
            "metadata.annotations.source": "postgres",
        },
    )
    assert document == {
        "spec": {"mesh": {"tags": ["z"], "specific": {"keep": 1, "view": "daily"}}},
        "metadata": {"annotations": {"source": "postgres"}},
    }


def test_null_removes_a_key_and_a_parent_is_written_before_its_children():
    document = {"spec": {"mesh": {"description": "old", "specific": {"a": 1}}}}
    services.updates_apply(
        document, {"spec.mesh.specific.b": 2, "spec.mesh.specific": {}, "spec.mesh.description": None}
    )
    assert document == {"spec": {"mesh": {"specific": {"b": 2}}}}


@pytest.mark.parametrize(
    ("document", "updates", "expected"),
    [
        # a Witboost adapter writes spec.mesh.description: the description itself, metadata.description, follows
        ({"metadata": {"description": "a"}, "spec": {"mesh": {}}}, {"spec.mesh.description": "b"}, ("b", "b")),
        (
            {"metadata": {"description": "a"}, "spec": {"mesh": {"description": "a"}}},
            {"metadata.description": "b"},
            ("b", "b"),
        ),
        # spec.mesh.description absent: derived, it stays absent
        ({"metadata": {"description": "a"}, "spec": {"mesh": {}}}, {"metadata.description": "b"}, ("b", None)),
    ],
)
def test_the_description_in_spec_mesh_stays_equal_to_metadata_description(document, updates, expected):
    services.updates_apply(document, updates)
    assert (document["metadata"]["description"], document["spec"]["mesh"].get("description")) == expected


def test_an_empty_part_in_a_path_is_refused():
    with pytest.raises(ValuesInvalid) as refused:
        services.updates_apply({"spec": {}}, {"spec..mesh": 1})
    assert refused.value.errors == {"spec..mesh": ["is not a dot path (an empty part)"]}


# --- pages ---------------------------------------------------------------------------------------------------------


def component_url() -> str:
    return reverse("provisioning-reverse:reverse_provisioning_component", args=[PORT])


def test_the_owner_runs_previews_and_confirms_on_the_pages(client, port, registered, alice, settings):
    client.force_login(alice)
    page = client.get(component_url())
    assert page.status_code == 200
    assert "Run reverse provisioning" in page.content.decode()

    answer = client.post(component_url(), {"environment": "development", "params": "mode: async\npolls: 1"})
    done = ReverseProvisioning.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse("provisioning-reverse:reverse_provisioning_detail", args=[done.pk])
    assert done.status == Status.READY and done.params == {"mode": "async", "polls": 1}

    detail = client.get(answer["Location"])
    content = detail.content.decode()
    assert detail.status_code == 200
    assert "Read back from development" in content and "reverse provisioning done" in content
    assert "Balances per account per day" in content  # metadata.description follows spec.mesh.description
    assert '<table class="table diff">' in content and "Confirm and commit" in content
    base = detail.context["patch"].revision
    assert f'name="base_revision" value="{base}"' in content

    confirmed = client.post(
        reverse("provisioning-reverse:reverse_provisioning_apply", args=[done.pk]), {"base_revision": base}
    )
    assert confirmed.status_code == 302
    done.refresh_from_db()
    assert done.status == Status.APPLIED and done.commit_sha == repo(settings).commit("main").hexsha
    assert component_get(name=PORT).description == "Read back from development"
    assert f"Committed {done.commit_sha[:7]}" in client.get(confirmed["Location"]).content.decode()


def test_the_page_says_why_the_adapter_failed(client, port, registered, alice):
    client.force_login(alice)
    answer = client.post(component_url(), {"environment": "development", "params": "{mode: bad400}"}, follow=True)
    content = answer.content.decode()
    assert answer.status_code == 200
    assert "The adapter failed" in content
    assert "HTTP 400 from POST /v1/reverse-provisioning: The request is not valid for this adapter" in content
    assert "Add a database" in content  # the adapter's solution, verbatim
    assert "Confirm and commit" not in content


def test_the_form_refuses_an_unknown_environment_or_params_that_are_not_a_mapping(client, port, registered, alice):
    client.force_login(alice)
    for data, error in (
        ({}, "This field is required."),
        ({"environment": "staging"}, "Select a valid choice."),
        ({"environment": "development", "params": "- a list"}, "must be a mapping of parameter names to values"),
    ):
        answer = client.post(component_url(), data)
        assert answer.status_code == 400
        assert error in answer.content.decode()
    answer = client.post(component_url(), {"environment": "qa"})
    assert answer.status_code == 400
    assert f"environment: no tech adapter is registered for infrastructureTemplateId {TEMPLATE} in qa" in (
        answer.content.decode()
    )
    assert not ReverseProvisioning.objects.exists()


def test_a_stale_confirm_shows_the_new_diff_with_409(client, port, registered, alice, settings):
    client.force_login(alice)
    done = run(port, alice, updates=UPDATES)
    old = services.reverse_provisioning_preview(run=done).revision
    entity_file_patch(
        entity=port.entity,
        patch=lambda document: document["metadata"].__setitem__("title", "Balances"),
        actor=alice,
        message="Someone else",
        audit_action="entity.edit",
    )
    head = repo(settings).commit("main").hexsha

    answer = client.post(
        reverse("provisioning-reverse:reverse_provisioning_apply", args=[done.pk]), {"base_revision": old}
    )

    assert answer.status_code == 409
    assert "changed in Git since the diff you confirmed was shown" in answer.content.decode()
    assert answer.context["patch"].revision == head
    assert repo(settings).commit("main").hexsha == head


def test_another_team_gets_403_on_every_page_and_nothing_is_recorded(client, port, registered, alice, bob):
    done = run(port, alice, updates=UPDATES)
    client.force_login(bob)
    assert client.get(component_url()).status_code == 403
    assert client.post(component_url(), {"environment": "development"}).status_code == 403
    for name in ("detail",):
        assert (
            client.get(reverse(f"provisioning-reverse:reverse_provisioning_{name}", args=[done.pk])).status_code == 403
        )
    for name in ("apply", "discard"):
        url = reverse(f"provisioning-reverse:reverse_provisioning_{name}", args=[done.pk])
        assert client.post(url, {"base_revision": done.base_revision}).status_code == 403
    assert list(ReverseProvisioning.objects.values_list("status", flat=True)) == [Status.READY]


def test_discard_on_the_page_returns_to_the_component(client, port, registered, alice):
    client.force_login(alice)
    done = run(port, alice, updates=UPDATES)
    answer = client.post(reverse("provisioning-reverse:reverse_provisioning_discard", args=[done.pk]))
    assert answer.status_code == 302 and answer["Location"] == component_url()
    done.refresh_from_db()
    assert done.status == Status.DISCARDED
    content = client.get(component_url()).content.decode()
    assert "Discarded: nothing was committed." in content
    assert reverse("provisioning-reverse:reverse_provisioning_detail", args=[done.pk]) in content


# --- the API -------------------------------------------------------------------------------------------------------

API_LIST = "provisioning-reverse-api:reverse-provisioning-list"


def api_url(name: str, pk: int) -> str:
    return reverse(f"provisioning-reverse-api:reverse-provisioning-{name}", args=[pk])


def test_the_api_runs_shows_the_diff_and_applies(api_client, port, registered, alice, settings):
    api_client.force_authenticate(alice)
    created = api_client.post(
        reverse(API_LIST),
        {"component": PORT, "environment": "development", "params": {"updates": UPDATES}},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "ready" and body["updates"] == UPDATES and body["adapter"] == TEMPLATE
    assert "+    - {name: currency" in body["preview"]["diff"] or "currency" in body["preview"]["diff"]

    shown = api_client.get(api_url("detail", body["id"]))
    assert shown.status_code == 200
    preview = shown.json()["preview"]
    assert preview["changed"] and preview["revision"] == entity_file(entity=port.entity).revision
    diff_lines = preview["diff"].splitlines()
    assert any(line.startswith("+") and "currency" in line for line in diff_lines)
    assert any(line.startswith("-") and "balance" in line for line in diff_lines)

    applied = api_client.post(api_url("apply", body["id"]), {"base_revision": preview["revision"]}, format="json")
    assert applied.status_code == 200, applied.content
    assert applied.json()["status"] == "applied"
    assert applied.json()["commit_sha"] == repo(settings).commit("main").hexsha
    assert contract_in_catalog() == READ_BACK


def test_the_api_refuses_bad_requests_naming_the_field(api_client, port, registered, alice):
    api_client.force_authenticate(alice)
    cases = [
        ({}, "component"),
        ({"component": "finance.nothing.0.port", "environment": "development"}, "component"),
        ({"component": PORT, "environment": "staging"}, "environment"),
        ({"component": PORT, "environment": "qa"}, "environment"),
        ({"component": PORT, "environment": "development", "params": ["a"]}, "params"),
    ]
    for data, field in cases:
        answer = api_client.post(reverse(API_LIST), data, format="json")
        assert answer.status_code == 400, (data, answer.content)
        assert field in answer.json()["errors"], (data, answer.json())
    assert not ReverseProvisioning.objects.exists()


def test_the_api_says_a_failed_adapter_and_a_stale_base(api_client, port, registered, alice, settings):
    api_client.force_authenticate(alice)
    failed = api_client.post(
        reverse(API_LIST),
        {"component": PORT, "environment": "development", "params": {"mode": "error500json"}},
        format="json",
    )
    assert failed.status_code == 201
    assert failed.json()["status"] == "failed"
    assert failed.json()["error"] == "HTTP 500 from POST /v1/reverse-provisioning: The platform did not answer"
    assert failed.json()["error_detail"]["solutions"] == ["Retry later"]

    done = run(port, alice, updates=UPDATES)
    stale = api_client.post(api_url("apply", done.pk), {"base_revision": "0" * 40}, format="json")
    assert stale.status_code == 409
    assert api_client.post(api_url("apply", done.pk), {}, format="json").status_code == 400
    assert api_client.post(api_url("discard", done.pk)).json()["status"] == "discarded"
    assert api_client.post(api_url("discard", done.pk)).status_code == 409


def test_the_api_gives_another_team_403_and_records_nothing(api_client, port, registered, alice, bob, settings):
    done = run(port, alice, updates=UPDATES)
    head = repo(settings).commit("main").hexsha
    api_client.force_authenticate(bob)
    answer = api_client.post(reverse(API_LIST), {"component": PORT, "environment": "development"}, format="json")
    assert answer.status_code == 403
    assert api_client.get(api_url("detail", done.pk)).status_code == 403
    assert api_client.post(api_url("apply", done.pk), {"base_revision": head}, format="json").status_code == 403
    assert api_client.post(api_url("discard", done.pk)).status_code == 403
    assert ReverseProvisioning.objects.count() == 1
    done.refresh_from_db()
    assert done.status == Status.READY and repo(settings).commit("main").hexsha == head
