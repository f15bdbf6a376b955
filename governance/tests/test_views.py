"""The governance pages: ``/governance/`` (policies with lifecycle badges and pass rates, the compliance matrix and
its filters, a constant query count), the policy page (read-only for most, edit form, lifecycle buttons and the
test bench for the platform team) and a queued bench run's progress."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dataproducts.models import DataProductIdentity
from governance import services
from governance.models import BenchRun, Evaluation, Policy, PolicyVersion, Waiver
from governance.tasks import bench_run as bench_task

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
HOME = "/governance/"


def evaluate(policy: Policy, data_product, outcome: str, *, environment="development", severity="error", **fields):
    """A stored evaluation of the policy's latest version (what the gate or the runtime schedule leaves)."""
    return Evaluation.objects.create(
        policy_version=policy.versions.first(),
        product=DataProductIdentity.objects.get(dp_id=data_product.dp_id),
        environment=environment,
        resource_id=data_product.dp_id,
        resource_kind="dataproduct",
        outcome=outcome,
        severity=severity,
        messages=[] if outcome == "pass" else [{"path": "spec.owner", "message": "no owner", "severity": "error"}],
        **fields,
    )


def waive(policy: Policy, data_product, *, days: int = 1) -> Waiver:
    return Waiver.objects.create(
        policy=policy,
        product=DataProductIdentity.objects.get(dp_id=data_product.dp_id),
        reason="migrating the port",
        expires_at=timezone.now() + timedelta(days=days),
    )


def page(client, url: str, **headers) -> str:
    answer = client.get(url, **headers)
    assert answer.status_code == 200, answer.content.decode()[:500]
    return answer.content.decode()


def queries(client, url: str, **headers) -> int:
    client.get(url, **headers)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, **headers).status_code == 200
    return len(captured)


@pytest.fixture
def products(build_dp, alice, bob):
    """cashflow (finance) and campaigns (marketing, bob's team)."""
    return {
        "cashflow": build_dp(alice),
        "campaigns": build_dp(bob, name="campaigns", domain="domain:marketing", owner="group:marketing"),
    }


# --- /governance/ ------------------------------------------------------------------------------------------------


def test_the_home_lists_policies_with_lifecycle_engine_severity_environments_and_pass_rate(
    client, alice, make_policy, products
):
    owners = make_policy("owners", environments=["production"])
    make_policy("drafty", lifecycle="draft", severity="warning")
    evaluate(owners, products["cashflow"], "pass")
    evaluate(owners, products["campaigns"], "fail")
    client.force_login(alice)

    html = page(client, HOME)

    assert '<span class="badge badge-policy-enabled">Enabled</span>' in html
    assert '<span class="badge badge-policy-draft">Draft</span>' in html
    owners_row = html[html.index(">owners</a>") : html.index("</tr>", html.index(">owners</a>"))]
    assert "scripted" in owners_row and "Error" in owners_row and "production" in owners_row
    assert "50%" in owners_row and "(1 of 2)" in owners_row
    drafty_row = html[html.index(">drafty</a>") : html.index("</tr>", html.index(">drafty</a>"))]
    assert "Warning" in drafty_row and "All" in drafty_row and "<td>—</td>" in drafty_row


def test_the_matrix_shows_each_outcome_as_text_and_puts_failing_products_first(
    client, alice, make_policy, products, build_dp
):
    quiet = build_dp(alice, name="quiet")
    owners = make_policy("owners")
    ports = make_policy("ports")
    make_policy("not-yet", lifecycle="grace")  # not enabled: no column
    evaluate(owners, products["campaigns"], "pass")
    evaluate(owners, products["cashflow"], "pass", environment="development")
    evaluate(owners, products["cashflow"], "fail", environment="qa")  # the worst environment counts
    evaluate(ports, products["cashflow"], "error")
    evaluate(ports, products["campaigns"], "fail")
    waive(ports, products["campaigns"])
    client.force_login(alice)

    html = page(client, HOME)
    matrix = html[html.index('id="gov-matrix"') :]

    assert ">not-yet</a></th>" not in matrix and ">owners</a></th>" in matrix and ">ports</a></th>" in matrix
    rows = matrix.split("<tr>")[2:]
    order = ["finance.cashflow.0", "finance.quiet.0", "marketing.campaigns.0"]  # failing first, then by name
    assert [next(name for name in order if name in row) for row in rows] == order
    assert '<span class="outcome outcome-fail">Fail</span>' in rows[0]
    assert '<span class="outcome outcome-error">Error</span>' in rows[0]
    assert '<span class="badge badge-failing">Failing</span>' in rows[0]
    campaigns = next(row for row in rows if "marketing.campaigns.0" in row)
    assert '<span class="outcome outcome-pass">Pass</span>' in campaigns
    assert '<span class="outcome outcome-waived">Waived</span>' in campaigns
    assert '<span class="badge badge-compliant">Compliant</span>' in campaigns
    assert rows[1].count('<span class="outcome outcome-not-evaluated">Not evaluated</span>') == 2
    assert '<span class="badge badge-neutral">Not evaluated</span>' in rows[1] and quiet.name in rows[1]


def test_the_matrix_filters_by_domain_owner_team_and_outcome(client, alice, make_policy, products):
    owners = make_policy("owners")
    evaluate(owners, products["cashflow"], "fail")
    client.force_login(alice)

    def shown(query: str) -> set[str]:
        html = page(client, HOME + query, **HTMX)
        assert "<h1>" not in html  # htmx gets the matrix alone
        return {name for name in ("finance.cashflow.0", "marketing.campaigns.0") if name in html}

    assert shown("") == {"finance.cashflow.0", "marketing.campaigns.0"}
    assert shown("?domain=marketing") == {"marketing.campaigns.0"}
    assert shown("?owner_team=finance") == {"finance.cashflow.0"}
    assert shown("?outcome=fail") == {"finance.cashflow.0"}
    assert shown("?outcome=not-evaluated") == {"marketing.campaigns.0"}
    assert shown("?outcome=pass") == set()
    waive(owners, products["campaigns"])
    assert shown("?outcome=waived") == {"marketing.campaigns.0"}


def test_the_filter_form_updates_the_matrix_with_htmx(client, alice, products):
    client.force_login(alice)

    html = page(client, HOME)

    assert 'hx-trigger="submit, change from:(#gov-filters select)"' in html and 'hx-target="#gov-matrix"' in html
    for label in ('for="gov-domain"', 'for="gov-owner-team"', 'for="gov-outcome"'):
        assert label in html


def test_an_unknown_outcome_is_a_400_naming_the_field(client, alice, products):
    client.force_login(alice)

    answer = client.get(HOME + "?outcome=green")

    assert answer.status_code == 400
    assert "outcome: unknown outcome &#x27;green&#x27;" in answer.content.decode()


def test_the_matrix_pages_by_25(client, alice, make_policy, build_dp):
    make_policy("owners")
    for index in range(26):
        build_dp(alice, name=f"p{index:02}")
    client.force_login(alice)

    assert "26 data products, showing 1\N{EN DASH}25" in page(client, HOME)
    assert "finance.p25.0" in page(client, HOME + "?page=2", **HTMX)


def test_the_home_costs_the_same_queries_for_2_and_20_products(client, alice, make_policy, build_dp):
    policies = [make_policy("owners"), make_policy("ports")]

    def grow(count: int) -> None:
        for index in range(count):
            data_product = build_dp(alice, name=f"p{index:02}")
            for policy in policies:
                evaluate(policy, data_product, "fail" if index % 2 else "pass")
                evaluate(policy, data_product, "pass", environment="qa")

    client.force_login(alice)
    grow(2)
    few = queries(client, HOME), queries(client, HOME, **HTMX)
    for index in range(2, 20):
        data_product = build_dp(alice, name=f"p{index:02}")
        for policy in policies:
            evaluate(policy, data_product, "error")
    waive(policies[0], data_product)

    assert (queries(client, HOME), queries(client, HOME, **HTMX)) == few


# --- The policy page ---------------------------------------------------------------------------------------------


def detail(policy) -> str:
    return reverse("governance:policy_detail", args=[policy.name if isinstance(policy, Policy) else policy])


@pytest.mark.parametrize("persona", ["carol", "bob", "alice"])
def test_the_policy_page_is_read_only_for_everyone_but_the_platform_team(
    client, personas, persona, make_policy, products, platform_user
):
    policy = make_policy("owners", description="Every product names its owner", body="pass")
    policy.body = "fail"
    services.policy_save(policy=policy, actor=platform_user)
    evaluate(policy, products["cashflow"], "fail")
    waive(policy, products["campaigns"])
    client.force_login(personas[persona])

    html = page(client, detail(policy))

    assert "Every product names its owner" in html and '<dd class="mono">scripted</dd>' in html
    assert "resource: dataproduct" in html and "deployment" in html
    assert ">fail</pre>" in html  # the body
    assert "Version 2 · platform" in html and "Version 1 · platform" in html
    assert '<span class="diff-del">-pass</span>' in html and '<span class="diff-add">+fail</span>' in html
    assert "<code>spec.owner</code>: no owner" in html  # the latest evaluations
    assert "migrating the port" in html and "marketing.campaigns.0" in html  # the waivers
    assert 'id="policy-form"' not in html and "Run the bench" not in html and 'name="lifecycle"' not in html


def test_the_platform_team_sees_the_edit_form_lifecycle_buttons_and_the_bench(client, platform_user, make_policy):
    policy = make_policy("owners", lifecycle="draft")
    client.force_login(platform_user)

    html = page(client, detail(policy))

    assert 'id="policy-form"' in html and 'name="body"' in html and "Run the bench" in html
    assert 'value="grace"' in html and 'value="enabled"' in html and 'value="deprecated"' in html
    assert 'hx-post="/governance/policies/owners/check/"' in html


def test_an_unknown_policy_is_404(client, alice):
    client.force_login(alice)

    assert client.get(detail("nope")).status_code == 404


FORM = {
    "description": "Owners named",
    "engine": "scripted",
    "severity": "error",
    "environments": ["qa"],
    "selector": '{"resource": "dataproduct"}',
    "timing": ["deployment"],
    "body": "fail",
}


def test_the_platform_team_saves_the_form_as_a_new_version(client, platform_user, make_policy):
    policy = make_policy("owners")
    client.force_login(platform_user)

    answer = client.post(detail(policy), FORM)

    assert answer.status_code == 302
    policy.refresh_from_db()
    assert (policy.body, policy.environments, policy.description) == ("fail", ["qa"], "Owners named")
    assert list(policy.versions.values_list("number", flat=True)) == [2, 1]


def test_a_body_that_does_not_compile_is_shown_on_the_body_field_with_its_line_and_column(
    client, platform_user, make_policy
):
    policy = make_policy("owners", engine="jsonschema", body='{"required": ["id"]}')
    client.force_login(platform_user)

    answer = client.post(detail(policy), {**FORM, "engine": "jsonschema", "body": '{"required": '})

    assert answer.status_code == 400
    assert answer.context["form"].errors["body"][0].startswith("line 1, column ")
    assert "field-invalid" in answer.content.decode()
    assert PolicyVersion.objects.filter(policy=policy).count() == 1
    policy.refresh_from_db()
    assert policy.body == '{"required": ["id"]}'


def test_a_bad_selector_names_the_field(client, platform_user, make_policy):
    policy = make_policy("owners")
    client.force_login(platform_user)

    answer = client.post(detail(policy), {**FORM, "selector": '{"resource": "spaceship"}'})

    assert answer.status_code == 400
    assert "resource must be one of" in answer.context["form"].errors["selector"][0]


def test_the_body_check_names_line_and_column_as_one_types(client, platform_user, make_policy):
    policy = make_policy("owners")
    client.force_login(platform_user)
    url = reverse("governance:policy_check", args=[policy.name])

    bad = client.post(url, {"engine": "jsonschema", "body": '{"type": '}, **HTMX)
    good = client.post(url, {"engine": "jsonschema", "body": '{"type": "object"}'}, **HTMX)
    unknown = client.post(url, {"engine": "cobol", "body": ""}, **HTMX)

    assert bad.status_code == 200 and "body: line 1, column " in bad.content.decode()
    assert "without a syntax error" in good.content.decode()
    assert unknown.status_code == 400 and "engine: &#x27;cobol&#x27; is not an engine" in unknown.content.decode()


@pytest.mark.parametrize(
    ("button", "lifecycle"), [("grace", "grace"), ("enabled", "enabled"), ("deprecated", "deprecated")]
)
def test_the_lifecycle_buttons_move_the_policy_through_the_service(
    client, platform_user, make_policy, button, lifecycle
):
    policy = make_policy("owners", lifecycle="draft")
    client.force_login(platform_user)

    answer = client.post(reverse("governance:policy_lifecycle", args=[policy.name]), {"lifecycle": button})

    assert answer.status_code == 302
    policy.refresh_from_db()
    assert policy.lifecycle == lifecycle and policy.versions.first().lifecycle == lifecycle


def test_an_unknown_lifecycle_is_a_400_naming_the_field(client, platform_user, make_policy):
    policy = make_policy("owners", lifecycle="draft")
    client.force_login(platform_user)

    answer = client.post(reverse("governance:policy_lifecycle", args=[policy.name]), {"lifecycle": "draft"})

    assert (
        answer.status_code == 400 and "lifecycle: expected one of grace, enabled, deprecated" in answer.content.decode()
    )


# --- The test bench ----------------------------------------------------------------------------------------------


def bench(client, policy, **data):
    return client.post(
        reverse("governance:policy_bench", args=[policy.name]),
        {"use": "saved", "source": "working", "environment": "", "product": "", **data},
        **HTMX,
    )


def test_the_bench_runs_the_saved_policy_on_every_product_and_environment_changing_nothing(
    client, platform_user, make_policy, products
):
    policy = make_policy("owners", body="fail", environments=["development", "qa"])
    client.force_login(platform_user)
    before = (Evaluation.objects.count(), PolicyVersion.objects.count())

    answer = bench(client, policy)

    assert answer.status_code == 200
    rows = answer.context["bench_rows"]
    assert [(row["product"], row["environment"], row["outcome"]) for row in rows] == [
        ("finance.cashflow.0", "development", "fail"),
        ("finance.cashflow.0", "qa", "fail"),
        ("marketing.campaigns.0", "development", "fail"),
        ("marketing.campaigns.0", "qa", "fail"),
    ]
    html = answer.content.decode()
    assert "urn:dmb:dp:finance:cashflow:0 failed" in html and "The saved policy" in html
    assert (Evaluation.objects.count(), PolicyVersion.objects.count()) == before


def test_the_bench_runs_the_unsaved_form_values_without_saving_them(client, platform_user, make_policy, products):
    policy = make_policy("owners", body="pass")
    client.force_login(platform_user)

    answer = bench(client, policy, use="form", environment="qa", **{**FORM, "body": "fail", "environments": []})

    assert answer.status_code == 200
    assert {row["outcome"] for row in answer.context["bench_rows"]} == {"fail"}
    assert {row["environment"] for row in answer.context["bench_rows"]} == {"qa"}
    assert "The form's unsaved values" in answer.content.decode()
    policy.refresh_from_db()
    assert policy.body == "pass" and policy.versions.count() == 1 and not Evaluation.objects.exists()


def test_the_bench_runs_on_one_product(client, platform_user, make_policy, products):
    policy = make_policy("owners", body="pass")
    client.force_login(platform_user)

    answer = bench(client, policy, product="finance.cashflow.0", environment="development")

    assert [(row["product"], row["outcome"]) for row in answer.context["bench_rows"]] == [
        ("finance.cashflow.0", "pass")
    ]


def test_the_bench_reads_the_latest_release_and_says_when_there_is_none(client, platform_user, make_policy, products):
    policy = make_policy("owners", body="pass")
    client.force_login(platform_user)

    answer = bench(client, policy, source="release", environment="development")

    assert {row["outcome"] for row in answer.context["bench_rows"]} == {"n/a"}
    assert "Not applicable" in answer.content.decode()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"use": "form", **FORM, "engine": "jsonschema", "body": '{"type": '}, "body: line 1, column "),
        ({"product": "finance.nope.0"}, "product: no data product &#x27;finance.nope.0&#x27;"),
        ({"source": "yesterday"}, "source: Select a valid choice."),
    ],
)
def test_bad_bench_input_is_a_400_naming_the_field_and_nothing_is_written(
    client, platform_user, make_policy, products, data, error
):
    policy = make_policy("owners", body="pass")
    client.force_login(platform_user)

    answer = bench(client, policy, **data)

    assert answer.status_code == 400
    assert error in answer.content.decode()
    assert not Evaluation.objects.exists() and not BenchRun.objects.exists() and policy.versions.count() == 1


def test_a_large_bench_is_queued_with_a_progress_bar_that_polls_until_done(
    client, platform_user, make_policy, products, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "BENCH_AT_ONCE", 1)
    policy = make_policy("owners", body="fail")
    client.force_login(platform_user)

    with django_capture_on_commit_callbacks() as queued:
        answer = bench(client, policy, environment="development")

    run = BenchRun.objects.get()
    assert (run.status, run.total, run.snapshot["body"], run.environments) == ("queued", 2, "fail", ["development"])
    assert len(queued) == 1  # the task, sent once the run is committed
    html = answer.content.decode()
    url = reverse("governance:bench_run_detail", args=[run.pk])
    assert f'hx-get="{url}"' in html and 'hx-trigger="load delay:500ms, every 2s"' in html
    assert '<progress id="bench-progress" max="2" value="0">' in html

    polled = client.get(url, **HTMX)
    assert polled.status_code == 200 and "Judged 0 of 2 data products" in polled.content.decode()

    services.bench_run_execute(run_id=run.pk)

    done = client.get(url, **HTMX)
    assert done.status_code == 286  # htmx stops polling
    assert "urn:dmb:dp:finance:cashflow:0 failed" in done.content.decode() and "<progress" not in done.content.decode()
    assert "Test bench of" in page(client, url)  # the run's own page, without htmx
    assert not Evaluation.objects.exists()


def test_the_bench_task_runs_a_queued_run_once(make_policy, products, platform_user):
    policy = make_policy("owners", body="fail")
    run = BenchRun.objects.create(
        policy=policy, snapshot=policy.snapshot(), source="working", environments=["qa"], total=2
    )

    bench_task.apply(args=[run.pk])  # eagerly, in this process

    run.refresh_from_db()
    assert (run.status, run.done, run.total) == ("done", 2, 2) and run.finished_at is not None
    assert [(row["product"], row["environment"], row["outcome"]) for row in run.results] == [
        ("finance.cashflow.0", "qa", "fail"),
        ("marketing.campaigns.0", "qa", "fail"),
    ]
    assert services.bench_run_execute(run_id=run.pk) is None  # not queued any more: nobody runs it twice
    assert not Evaluation.objects.exists()


def test_a_bench_run_that_fails_says_why(make_policy, products, monkeypatch, client, platform_user):
    policy = make_policy("owners", body="fail")
    run = BenchRun.objects.create(policy=policy, snapshot=policy.snapshot(), source="working", environments=["qa"])

    def broken(**kwargs):
        raise RuntimeError("the disk is gone")

    monkeypatch.setattr(services, "bench_table", broken)
    with pytest.raises(RuntimeError):
        services.bench_run_execute(run_id=run.pk)

    client.force_login(platform_user)
    answer = client.get(reverse("governance:bench_run_detail", args=[run.pk]), **HTMX)
    assert answer.status_code == 286 and "The bench failed: the disk is gone" in answer.content.decode()


def test_the_policy_page_costs_the_same_queries_for_2_and_20_evaluations(
    client, platform_user, make_policy, build_dp, alice
):
    few, many = make_policy("few"), make_policy("many")
    for index in range(10):
        data_product = build_dp(alice, name=f"p{index:02}")
        for environment in ("development", "qa"):
            evaluate(many, data_product, "fail", environment=environment)
        waive(many, data_product)
        if index == 0:
            evaluate(few, data_product, "pass")
            evaluate(few, data_product, "fail", environment="qa")
    for policy in (few, many):
        policy.body = "fail"
        services.policy_save(policy=policy, actor=platform_user)
    client.force_login(platform_user)

    assert queries(client, detail(few)) == queries(client, detail(many))
