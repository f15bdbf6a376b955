"""The data product page's Governance tab (the latest result of each policy in each environment, with the failing
paths and the waivers in force) and the compliance badge in its header and in the "My data products" rows, at a
constant number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dataproducts.models import DataProductIdentity
from governance.models import Evaluation, Policy, Waiver
from governance.services import policy_save

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
COMPLIANT = '<span class="badge badge-compliant">Compliant</span>'
FAILING = '<span class="badge badge-failing">Failing</span>'
NOT_EVALUATED = '<span class="badge badge-neutral">Not evaluated</span>'


@pytest.fixture
def policy(platform_user):
    def make(name: str, **fields) -> Policy:
        fields.setdefault("lifecycle", "enabled")
        return policy_save(policy=Policy(name=name, engine="jsonschema", body="{}", **fields), actor=platform_user)

    return make


def evaluate(policy: Policy, data_product, outcome: str, *, environment="development", severity="error", **fields):
    return Evaluation.objects.create(
        policy_version=policy.versions.first(),
        product=DataProductIdentity.objects.get(dp_id=data_product.dp_id),
        environment=environment,
        resource_id=data_product.dp_id,
        resource_kind="dataproduct",
        outcome=outcome,
        severity=severity,
        messages=[]
        if outcome == "pass"
        else [{"path": "spec.owner", "message": "names no owner", "severity": "error"}],
        **fields,
    )


def tab_url(data_product) -> str:
    return reverse("dp:dataproduct_detail", args=[data_product.name]) + "?tab=governance"


def header(html: str) -> str:
    return html[html.index('<h1 id="dp-title">') : html.index("</h1>")]


def queries(client, url: str, **headers) -> int:
    client.get(url, **headers)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, **headers).status_code == 200
    return len(captured)


def test_the_tab_shows_the_latest_result_of_each_policy_per_environment_with_failing_paths(
    client, alice, build_dp, policy, platform_user
):
    data_product = build_dp(alice)
    owners, ports = policy("owners"), policy("ports", lifecycle="grace")
    old = evaluate(owners, data_product, "fail", environment="development")
    old.time = timezone.now() - timedelta(hours=1)
    old.save()
    owners.body = '{"type": "object"}'
    policy_save(policy=owners, actor=platform_user)
    evaluate(owners, data_product, "pass", environment="development", version="0.1-SNAPSHOT-1")  # the latest
    evaluate(owners, data_product, "fail", environment="qa")
    evaluate(ports, data_product, "fail", environment="qa", severity="warning")
    client.force_login(alice)

    html = client.get(tab_url(data_product), **HTMX).content.decode()

    development = html[html.index('id="dp-governance-development"') : html.index('id="dp-governance-qa"')]
    assert "names no owner" not in development  # the older failure is not the latest
    assert "v2" in development and "0.1-SNAPSHOT-1" in development
    assert '<span class="outcome outcome-pass">Pass</span>' in development
    qa = html[html.index('id="dp-governance-qa"') : html.index('id="dp-governance-production"')]
    assert qa.count("<code>spec.owner</code>: names no owner") == 2
    assert qa.index(">owners</a>") < qa.index(">ports</a>")  # failing first
    assert "Warning" in qa and "Error" in qa and "v1" in qa
    assert "Not evaluated in production." in html
    assert FAILING in html
    assert "<h1" not in html  # htmx swaps the tabs alone


def test_a_waiver_in_force_is_shown_and_takes_the_failure_out(client, alice, build_dp, policy):
    data_product = build_dp(alice)
    owners = policy("owners")
    evaluate(owners, data_product, "fail")
    Waiver.objects.create(
        policy=owners,
        product=DataProductIdentity.objects.get(dp_id=data_product.dp_id),
        reason="owner joins next sprint",
        expires_at=timezone.now() + timedelta(days=3),
    )
    client.force_login(alice)

    html = client.get(tab_url(data_product)).content.decode()

    assert "Waivers in force" in html and "owner joins next sprint" in html
    assert '<span class="outcome outcome-waived">Waived</span>' in html
    assert COMPLIANT in header(html)


@pytest.mark.parametrize(
    ("outcome", "severity", "badge"),
    [
        (None, None, NOT_EVALUATED),
        ("pass", "error", COMPLIANT),
        ("fail", "error", FAILING),
        ("error", "error", FAILING),
        ("fail", "warning", COMPLIANT),  # a grace policy's failure warns
    ],
)
def test_the_header_and_the_list_show_the_compliance_badge(client, alice, build_dp, policy, outcome, severity, badge):
    data_product = build_dp(alice)
    if outcome:
        evaluate(policy("owners"), data_product, outcome, severity=severity)
    client.force_login(alice)

    detail = client.get(reverse("dp:dataproduct_detail", args=[data_product.name])).content.decode()
    listed = client.get(reverse("dataproducts:home")).content.decode()

    assert badge in header(detail)
    row = listed[listed.index(data_product.name) : listed.index("</tr>", listed.index(data_product.name))]
    assert badge in row


def test_a_later_runtime_pass_makes_a_failing_product_compliant(client, alice, build_dp, policy):
    data_product = build_dp(alice)
    owners = policy("owners")
    failed = evaluate(owners, data_product, "fail", blocking=True)
    failed.time = timezone.now() - timedelta(minutes=5)
    failed.save()
    evaluate(owners, data_product, "pass", timing="runtime")
    client.force_login(alice)

    assert COMPLIANT in header(client.get(reverse("dp:dataproduct_detail", args=[data_product.name])).content.decode())


def test_the_tab_costs_the_same_queries_for_2_and_20_evaluations(client, alice, build_dp, policy):
    small, large = build_dp(alice, name="small"), build_dp(alice, name="large")
    policies = [policy(f"p{index:02}") for index in range(10)]
    for item in policies[:1]:
        evaluate(item, small, "fail")
        evaluate(item, small, "pass", environment="qa")
    for item in policies:
        evaluate(item, large, "fail")
        evaluate(item, large, "pass", environment="qa")
    client.force_login(alice)

    assert queries(client, tab_url(small)) == queries(client, tab_url(large))
    assert queries(client, tab_url(small), **HTMX) == queries(client, tab_url(large), **HTMX)


def test_the_list_costs_the_same_queries_for_2_and_20_products(client, alice, build_dp, policy):
    owners = policy("owners")
    url = reverse("dataproducts:home")
    client.force_login(alice)
    for index in range(2):
        evaluate(owners, build_dp(alice, name=f"p{index:02}"), "fail")
    few = queries(client, url)
    for index in range(2, 20):
        evaluate(owners, build_dp(alice, name=f"p{index:02}"), "pass")

    assert queries(client, url) == few


@pytest.mark.parametrize("lifecycle", ["draft", "grace", "deprecated"])
def test_a_failure_of_a_policy_no_longer_enabled_no_longer_fails_the_product(
    client, alice, build_dp, policy, platform_user, lifecycle
):
    data_product = build_dp(alice)
    owners = policy("owners")
    evaluate(owners, data_product, "fail", blocking=True)
    owners.lifecycle = lifecycle
    policy_save(policy=owners, actor=platform_user)
    client.force_login(alice)

    detail = client.get(reverse("dp:dataproduct_detail", args=[data_product.name])).content.decode()
    listed = client.get(reverse("dataproducts:home")).content.decode()

    assert COMPLIANT in header(detail)
    row = listed[listed.index(data_product.name) : listed.index("</tr>", listed.index(data_product.name))]
    assert COMPLIANT in row
