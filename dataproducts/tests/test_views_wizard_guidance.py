"""What the creation wizard tells a person before they fill it all (issue 11): a taken name at the step that asks
for it, a person in no team told at the start what to do, and the name suggested from the title (the data-
attribute static/js/wizard.js follows; the browser test types a title)."""

from __future__ import annotations

import pytest

from dataproducts.models import DataProduct
from dataproducts.tests.test_views_wizard import as_alice, post  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_templates")]

URL = "/builder/create/dataproduct/"
STEP_0 = {
    "s0-_seen": "1",
    "s0-name": "cashflow",
    "s0-title": "Cash flow",
    "s0-description": "Operating cash flows",
    "s0-domain": "domain:finance",
    "s0-owner": "group:finance",
}


def test_a_taken_name_is_said_at_the_first_step_next_to_the_name(as_alice, file_templates, build_dp, alice):  # noqa: F811
    build_dp(alice)

    response = post(as_alice, URL, STEP_0, step=0)

    page = response.content.decode()
    assert response.status_code == 400
    assert 'value="0"' in page and 'name="_step"' in page  # still the first step
    assert (
        '<ul class="field-errors" id="id_s0-name_errors"><li>is taken: data product urn:dmb:dp:finance:cashflow:0 '
        "already exists; choose another name</li></ul>"
    ) in page


def test_a_free_name_goes_on_to_the_next_step(as_alice, file_templates, file_domains):  # noqa: F811
    response = post(as_alice, URL, STEP_0 | {"s0-name": "cashflow-two"}, step=0)

    assert response.status_code == 200 and "is taken" not in response.content.decode()
    assert not DataProduct.objects.exists()


def test_a_person_in_no_team_is_told_at_the_start_whom_to_ask(client, carol, file_templates, file_domains):
    client.force_login(carol)

    response = client.get(URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert "You need a team first" in page and "Ask your team lead, or a platform administrator" in page
    assert 'id="wizard-body"' not in page and 'name="s0-name"' not in page
    assert post(client, URL, STEP_0, step=0).status_code == 403
    assert not DataProduct.objects.exists()


def test_the_name_field_asks_to_be_suggested_from_the_title(as_alice, file_templates, file_domains):  # noqa: F811
    page = as_alice.get(URL).content.decode()

    assert 'name="s0-name"' in page and 'data-suggest-from="id_s0-title"' in page
    assert 'src="/static/js/wizard.js"' in page
