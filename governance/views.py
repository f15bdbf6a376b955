"""The governance pages (PRODUCT §5): ``/governance/`` (the policies with their pass rates and the compliance matrix
of data products x enabled policies), a policy's page (its body, versions, evaluations and waivers; for the platform
team its edit form, lifecycle buttons and the test bench) and a queued bench run's progress, polled by htmx."""

from __future__ import annotations

import copy

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from core.htmx import render_page, wants_fragment
from dataproducts.filtersets import DataProductFilterSet
from dataproducts.models import DataProduct
from governance import selectors, services
from governance.choices import Lifecycle
from governance.engines import UnknownEngine, engine_get
from governance.forms import BenchForm, PolicyForm
from governance.models import BenchRun, Policy

PAGE_SIZE = 25
LIFECYCLE_MOVES = (Lifecycle.GRACE, Lifecycle.ENABLED, Lifecycle.DEPRECATED)


def _staff_required(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied("only the platform team changes policies and runs the test bench")


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The policies with their pass rates, and the compliance matrix of data products x enabled policies (failing
    first, filtered by domain, owner team and outcome, 25 a page); htmx swaps only the matrix."""
    selected = {key: request.GET.get(key, "").strip() for key in ("domain", "owner_team", "outcome")}
    rows = selectors.policy_rows()
    enabled = [row.policy for row in rows if row.policy.lifecycle == Lifecycle.ENABLED]
    filterset = DataProductFilterSet(
        {"domain": selected["domain"], "owner_team": selected["owner_team"]},
        queryset=DataProduct.objects.all(),
        request=request,
    )
    errors = []
    if selected["outcome"] and selected["outcome"] not in selectors.CELL_OUTCOMES:
        errors.append(
            f"outcome: unknown outcome {selected['outcome']!r}; expected one of {', '.join(selectors.CELL_OUTCOMES)}"
        )
    products = selectors.compliance_matrix_products(
        filterset.qs, policies=enabled, outcome="" if errors else selected["outcome"]
    )
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    fragment = wants_fragment(request)
    context = {
        "policy_rows": rows,
        "policies": enabled,
        "page": page,
        "matrix": selectors.compliance_matrix(products=page.object_list, policies=enabled),
        "selected": selected,
        "errors": errors,
        "fragment": fragment,
        "home_url": reverse("governance:home"),
        "outcome_options": [(value, selectors.CELL_LABELS[value]) for value in selectors.CELL_OUTCOMES],
    }
    if not fragment:
        every = DataProduct.objects.order_by()

        def options(field: str, chosen: str) -> list[str]:
            return sorted((set(every.values_list(field, flat=True).distinct()) | {chosen}) - {""})

        context |= {
            "domain_options": options("domain_name", selected["domain"]),
            "team_options": options("owner_team", selected["owner_team"]),
        }
    return render_page(
        request,
        "governance/home.html",
        context,
        partial="governance/partials/compliance_matrix.html",
        status=400 if errors else 200,
    )


def _policy_or_404(name: str) -> Policy:
    policy = selectors.policy_get(name=name)
    if policy is None:
        raise Http404(f"No policy {name}")
    return policy


def _policy_response(
    request: HttpRequest,
    policy: Policy,
    *,
    form: PolicyForm | None = None,
    bench_form: BenchForm | None = None,
    extra: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "policy": policy,
        "versions": selectors.policy_version_rows(policy=policy),
        "evaluations": selectors.policy_evaluations_latest(policy=policy),
        "waivers": selectors.policy_waivers(policy=policy),
        "environments_label": ", ".join(policy.environments) or "every environment",
        "urls": {
            "detail": reverse("governance:policy_detail", args=[policy.name]),
            "lifecycle": reverse("governance:policy_lifecycle", args=[policy.name]),
            "bench": reverse("governance:policy_bench", args=[policy.name]),
            "check": reverse("governance:policy_check", args=[policy.name]),
        },
    }
    if request.user.is_staff:
        form = form or PolicyForm(instance=policy)
        # the engine checks the body as it is typed, next to the field (the save checks it again)
        form.fields["body"].widget.attrs.update(
            {
                "hx-post": context["urls"]["check"],
                "hx-trigger": "keyup changed delay:500ms",
                "hx-target": "#body-check",
                "hx-swap": "innerHTML",
                "aria-describedby": "body-check",
            }
        )
        context |= {
            "form": form,
            "bench_form": bench_form or BenchForm(),
            "lifecycle_moves": [move for move in LIFECYCLE_MOVES if move != policy.lifecycle],
            "bench_at_once": services.BENCH_AT_ONCE,
        }
    context |= extra or {}
    return render_page(request, "governance/policy_detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
def policy_detail(request: HttpRequest, name: str) -> HttpResponse:
    """A policy's page; the platform team saves its edit form here (a new version each change)."""
    policy = _policy_or_404(name)
    if request.method == "GET":
        return _policy_response(request, policy)
    _staff_required(request)
    form = PolicyForm(request.POST, instance=policy)
    if form.is_valid():
        try:
            services.policy_save(policy=form.instance, actor=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved the policy {policy.name} (version {policy.versions.first().number}).")
            return redirect("governance:policy_detail", name=policy.name)
    # the form changed the instance: the page shows the policy as saved
    return _policy_response(request, _policy_or_404(name), form=form, status=400)


@require_POST
def policy_lifecycle(request: HttpRequest, name: str) -> HttpResponse:
    """Move a policy to grace, enable or deprecate it (a version and an audit event, like any save)."""
    _staff_required(request)
    policy = _policy_or_404(name)
    wanted = request.POST.get("lifecycle", "")
    if wanted not in LIFECYCLE_MOVES:
        moves = ", ".join(LIFECYCLE_MOVES)
        error = f"lifecycle: expected one of {moves}, got {wanted!r}"
        return _policy_response(request, policy, extra={"lifecycle_error": error}, status=400)
    try:
        services.policy_lifecycle_set(policy=policy, lifecycle=Lifecycle(wanted), actor=request.user)
    except ValidationError as exc:
        lines = [f"{field}: {message}" for field, found in exc.message_dict.items() for message in found]
        return _policy_response(request, _policy_or_404(name), extra={"lifecycle_error": "; ".join(lines)}, status=400)
    messages.success(request, f"The policy {policy.name} is now {Lifecycle(wanted).label.lower()}.")
    return redirect("governance:policy_detail", name=policy.name)


@require_POST
def policy_check(request: HttpRequest, name: str) -> HttpResponse:
    """The engine's syntax check of a body being typed (htmx, next to the body field): nothing is saved."""
    _staff_required(request)
    _policy_or_404(name)
    try:
        problems = engine_get(request.POST.get("engine", "")).check(request.POST.get("body", ""))
    except UnknownEngine as exc:
        context, status = {"problems": [], "unknown_engine": str(exc.args[0])}, 400
    else:
        context, status = {"problems": problems}, 200
    return render_page(request, "governance/partials/body_check.html", context, status=status)


def _bench_fragment(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    return render_page(request, "governance/partials/bench_results.html", context, status=status)


@require_POST
def policy_bench(request: HttpRequest, name: str) -> HttpResponse:
    """The test bench: the saved policy or the form's unsaved values against every data product (or one), changing
    nothing. At most ``BENCH_AT_ONCE`` products answer at once; more are queued and their progress polled."""
    _staff_required(request)
    policy = _policy_or_404(name)
    bench_form = BenchForm(request.POST)
    form = None
    tried = policy
    valid = bench_form.is_valid()
    if valid and bench_form.cleaned_data["use"] == "form":
        # the unsaved values, on a copy: validated like a save (the body's syntax check included), never saved
        form = PolicyForm(request.POST, instance=copy.copy(policy))
        valid = form.is_valid()
        tried = form.instance
    if not valid:
        errors = [
            f"{field}: {message}"
            for bound in (bench_form, form)
            if bound is not None
            for field, found in bound.errors.items()
            for message in found
        ]
        context = {"bench_errors": errors}
        if wants_fragment(request):
            return _bench_fragment(request, context, status=400)
        return _policy_response(request, policy, form=form, bench_form=bench_form, extra=context, status=400)
    data = bench_form.cleaned_data
    environments = services.bench_environments(tried, data["environment"])
    products = services.bench_products(product=data["product"])
    context = {"bench_policy": tried, "bench_saved": data["use"] == "saved", "bench_source": data["source"]}
    if products.count() <= services.BENCH_AT_ONCE:
        context["bench_rows"] = services.bench_table(
            policy=tried, products=list(products), source=data["source"], environments=environments
        )
    else:
        run = services.bench_queue(
            policy=tried,
            saved=data["use"] == "saved",
            source=data["source"],
            environments=environments,
            product=data["product"],
            actor=request.user,
        )
        context |= {"run": run, "run_url": reverse("governance:bench_run_detail", args=[run.pk])}
    if wants_fragment(request):
        return _bench_fragment(request, context)
    return _policy_response(request, policy, form=form, bench_form=bench_form, extra=context)


@require_GET
def bench_run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A queued bench run: its progress while it runs (htmx polls this), its result table once done."""
    _staff_required(request)
    run = get_object_or_404(BenchRun, pk=pk)
    context = {
        "run": run,
        "run_url": reverse("governance:bench_run_detail", args=[run.pk]),
        "bench_rows": run.results if run.finished else None,
        "bench_source": run.source,
        "bench_saved": run.saved,
        "environments": settings.MESHFORGE_ENVIRONMENTS,
    }
    if run.policy_id is not None:
        context["policy_url"] = reverse("governance:policy_detail", args=[run.snapshot["name"]])
    response = render_page(
        request, "governance/bench_run_detail.html", context, partial="governance/partials/bench_results.html"
    )
    if run.finished and wants_fragment(request):
        stop = HttpResponseStopPolling(response.content)
        stop["Vary"] = response["Vary"]
        return stop
    return response
