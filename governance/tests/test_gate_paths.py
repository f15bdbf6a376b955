"""The gate on every path (PRODUCT §5): with an enabled error policy the product fails, making a draft release is
refused on each way in, the Releases tab, the API, the admin and the ``release`` command, with the policy's reason,
and nothing is written (no Release row, no commit in the repository); the blocking evaluation is kept, because none
of these paths runs inside a transaction. The same policy in ``grace`` lets the draft through with a warning.

The admin's path is its *Make a draft release* action on data products: the admin has no Release form, because a
release is not a row one types in (it freezes a commit and writes it to Git); the action runs the release service,
and so ``Release.full_clean()``, as staff.

On real Git products (the Builder's fixtures), in transactions that commit: the blocking evaluation is stored in a
transaction of its own only when the caller holds none, which a test wrapped in one would hide."""

from __future__ import annotations

import json

import git
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from dataproducts.models import Release
from dataproducts.tests import conftest as builder_conftest
from dataproducts.tests.conftest import port_values
from governance.choices import Lifecycle
from governance.models import Evaluation, Policy
from governance.services import policy_save

# the Builder's fixtures for real Git products (pytest finds fixtures by the names a module holds)
templates_published = builder_conftest.templates_published
templates_location = builder_conftest.templates_location
builder = builder_conftest.builder
create_dp = builder_conftest.create_dp
add_component = builder_conftest.add_component

pytestmark = pytest.mark.django_db(transaction=True)

NAME = "finance.cashflow.0"
POLICY = "long-description"
LONG_DESCRIPTION = {
    "type": "object",
    "required": ["description"],
    "properties": {"description": {"type": "string", "minLength": 500}},
}


@pytest.fixture(autouse=True)
def environments(settings):
    settings.MESHFORGE_ENVIRONMENTS = ["development", "qa", "production"]


@pytest.fixture
def cashflow(create_dp, add_component, alice):
    """finance.cashflow.0 with an output port (adapter-ready), its description 20 characters long."""
    data_product = create_dp(alice)
    add_component(data_product, alice, **port_values())
    return data_product


def _policy(platform_user, lifecycle: str = Lifecycle.ENABLED) -> Policy:
    return policy_save(
        policy=Policy(
            name=POLICY,
            engine="jsonschema",
            body=json.dumps(LONG_DESCRIPTION),
            severity="error",
            lifecycle=lifecycle,
            selector={"resource": "dataproduct"},
        ),
        actor=platform_user,
    )


@pytest.fixture
def failing(cashflow, platform_user):
    return _policy(platform_user)


def _head(settings) -> str:
    return git.Repo(settings.MESHFORGE_GIT_ROOT / "finance" / "cashflow.git").commit("main").hexsha


@pytest.fixture
def untouched(settings, failing):
    """After the test: no release, no commit, and the one blocking evaluation of the refused draft on the record."""
    head = _head(settings)
    yield
    assert not Release.objects.exists()
    assert _head(settings) == head
    kept = Evaluation.objects.get()
    assert (kept.policy_version.policy.name, kept.environment, kept.outcome, kept.blocking, kept.release) == (
        POLICY,
        "development",
        "fail",
        True,
        None,
    )
    assert kept.version == "0.0-SNAPSHOT-1" and kept.messages[0]["path"] == "description"


REASON = f"{POLICY} (development) description:"


def test_the_releases_tab_refuses_the_draft_next_to_the_action(client, alice, untouched):
    client.force_login(alice)

    response = client.post(reverse("dp:release_draft_create", args=[NAME]))

    page = response.content.decode()
    assert response.status_code == 400
    errors = page[page.index('id="release-draft-errors"') :]
    assert "The draft was not made" in errors and REASON in errors and "is too short" in errors


def test_the_api_refuses_the_draft_with_the_reasons(api_client, alice, untouched):
    api_client.force_authenticate(alice)

    response = api_client.post(f"/api/dataproducts/data-products/{NAME}/releases/", {"kind": "draft"}, format="json")

    assert response.status_code == 400
    reasons = [reason for found in response.json()["errors"].values() for reason in found]
    assert any(REASON in reason and "is too short" in reason for reason in reasons), response.json()


def test_the_admin_action_refuses_the_draft_with_the_reasons(client, platform_user, cashflow, untouched):
    client.force_login(platform_user)
    changelist = reverse("admin:dataproducts_dataproduct_changelist")

    response = client.post(
        changelist, {"action": "release_draft_create", "_selected_action": [cashflow.pk]}, follow=True
    )

    shown = [str(message) for message in response.context["messages"]]
    assert response.status_code == 200 and len(shown) == 1
    assert shown[0].startswith(f"{NAME}: the draft was not made:") and REASON in shown[0], shown


def test_the_release_command_exits_non_zero_with_the_reasons(alice, untouched):
    with pytest.raises(CommandError) as refused:
        call_command("release", NAME, "--draft", "--user", "alice")

    assert str(refused.value).startswith("release refused:") and REASON in str(refused.value)


def test_the_same_policy_in_grace_lets_the_draft_through_with_a_warning(client, alice, cashflow, platform_user):
    _policy(platform_user, lifecycle=Lifecycle.GRACE)
    client.force_login(alice)

    response = client.post(reverse("dp:release_draft_create", args=[NAME]))

    assert response.status_code == 302
    release = Release.objects.get()
    assert release.version == "0.0-SNAPSHOT-1"
    warning = Evaluation.objects.get()
    assert (warning.release, warning.outcome, warning.severity, warning.blocking) == (release, "fail", "warning", False)
