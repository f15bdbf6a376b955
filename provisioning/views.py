"""The provisioning pages (PRODUCT §6, §9): a deployment's page (its checks, its preview with Confirm and Cancel,
its steps live while it runs, Retry once it failed), the deployments list of the platform team, the adapter registry,
and the Deploy and Undeploy requests of the data product page's Deployments tab. Everyone signed in reads; the
product's owners (and staff) deploy; staff change the registry."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from core.errors import ServiceError, error_status
from core.htmx import render_page, wants_fragment
from dataproducts.selectors import dataproduct_get
from provisioning import selectors, services
from provisioning.choices import DeploymentOperation, DeploymentStatus, TaskStatus
from provisioning.extension import deployments_context
from provisioning.filtersets import DeploymentFilterSet, TechAdapterFilterSet
from provisioning.forms import DeployForm, TechAdapterForm, UndeployForm
from provisioning.models import Deployment, TechAdapter

PAGE_SIZE = 25
# the states whose page follows the run by polling: the worker's checks, and the run itself
POLLED = (DeploymentStatus.VALIDATING, DeploymentStatus.RUNNING)
RETRIED = (DeploymentStatus.FAILED, DeploymentStatus.INVALID)


def _staff_required(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied("only the platform team (staff) changes the adapter registry")


def _may_run_required(request: HttpRequest, product) -> None:
    """403 before the form is read for whoever the service would refuse anyway (another team's member)."""
    if not services.deployment_may_run(product=product, user=request.user):
        raise PermissionDenied(f"only the owners of {product.entity_name} may deploy it")


def _refusal(exc: BaseException) -> str:
    """A service's refusal as the page says it: a 400 names its field."""
    field = getattr(exc, "field", "")
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{name}: {' '.join(found)}" for name, found in exc.message_dict.items())
        return " ".join(exc.messages)
    return f"{field}: {exc}" if field else str(exc)


def _form_errors(form) -> str:
    return "; ".join(f"{name}: {' '.join(found)}" for name, found in form.errors.items())


# --- deployments -------------------------------------------------------------------------------------------------


@require_GET
def deployment_list(request: HttpRequest) -> HttpResponse:
    """Every deployment, newest first, filtered with the FilterSet of the API, 25 a page; htmx swaps the results."""
    filterset = DeploymentFilterSet(request.GET, queryset=selectors.deployment_list())
    errors = [f"{name}: {' '.join(found)}" for name, found in filterset.errors.items()]
    page = Paginator(filterset.queryset.none() if errors else filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filterset": filterset,
        "page": page,
        "errors": errors,
        "list_url": reverse("provisioning:deployment_list"),
        "statuses": DeploymentStatus.choices,
        "operations": DeploymentOperation.choices,
        "environments": list(settings.MESHFORGE_ENVIRONMENTS),
        "selected": {key: request.GET.get(key, "") for key in ("product", "environment", "operation", "created_by")}
        | {"status": request.GET.getlist("status")},
    }
    return render_page(
        request,
        "provisioning/deployment_list.html",
        context,
        partial="provisioning/partials/deployment_results.html",
        status=400 if errors else 200,
    )


def _deployment_or_404(pk: int) -> Deployment:
    deployment = selectors.deployment_get(pk=pk)
    if deployment is None:
        raise Http404(f"No deployment #{pk}")
    return deployment


def _deployment_response(
    request: HttpRequest, deployment: Deployment, *, error: str = "", status: int = 200
) -> HttpResponse:
    tasks = list(deployment.tasks.all())
    polling = deployment.status in POLLED
    may_run = services.deployment_may_run(product=deployment.product, user=request.user)
    context = {
        "deployment": deployment,
        "tasks": tasks,
        "task_counts": [
            (label.lower(), count)
            for value, label in TaskStatus.choices
            if (count := sum(1 for task in tasks if task.status == value))
        ],
        "polling": polling,
        "may_run": may_run,
        "may_confirm": may_run and deployment.status == DeploymentStatus.READY,
        "may_cancel": may_run and deployment.status in (DeploymentStatus.VALIDATING, DeploymentStatus.READY),
        "may_retry": may_run and deployment.status in RETRIED,
        "error": error,
        "urls": {
            "detail": reverse("provisioning:deployment_detail", args=[deployment.pk]),
            "confirm": reverse("provisioning:deployment_confirm", args=[deployment.pk]),
            "cancel": reverse("provisioning:deployment_cancel", args=[deployment.pk]),
            "retry": reverse("provisioning:deployment_retry", args=[deployment.pk]),
            "product": reverse("dp:dataproduct_detail", args=[deployment.product.entity_name]) + "?tab=deployments",
            "list": reverse("provisioning:deployment_list"),
        },
    }
    response = render_page(
        request,
        "provisioning/deployment_detail.html",
        context,
        partial="provisioning/partials/deployment_live.html",
        status=status,
    )
    if wants_fragment(request) and not polling and status == 200:
        # nothing moves on its own any more (the run ended, or a person must confirm): htmx stops polling
        stop = HttpResponseStopPolling(response.content)
        stop["Vary"] = response["Vary"]
        return stop
    return response


@require_GET
def deployment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A deployment: "validating…", then its problems or its preview, then its steps live; htmx polls the live part
    while the worker moves it and stops (286) once nothing moves on its own."""
    return _deployment_response(request, _deployment_or_404(pk))


def _deployment_action(request: HttpRequest, pk: int, action, done: str) -> HttpResponse:
    """Run ``action`` on the deployment as the person; on success to the deployment it leads to with the news,
    otherwise its page again with the reason (403 or 409)."""
    deployment = _deployment_or_404(pk)
    _may_run_required(request, deployment.product)
    try:
        result = action(deployment=deployment, actor=request.user)
    except (ServiceError, PermissionDenied) as exc:
        return _deployment_response(
            request, _deployment_or_404(pk), error=_refusal(exc), status=error_status(exc) or 500
        )
    messages.success(request, done.format(deployment=result))
    return redirect("provisioning:deployment_detail", pk=result.pk)


@require_POST
def deployment_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    return _deployment_action(request, pk, services.deployment_confirm, "Deployment #{deployment.pk} started.")


@require_POST
def deployment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _deployment_action(request, pk, services.deployment_cancel, "Deployment #{deployment.pk} cancelled.")


@require_POST
def deployment_retry(request: HttpRequest, pk: int) -> HttpResponse:
    return _deployment_action(
        request, pk, services.deployment_retry, "Retrying as deployment #{deployment.pk}: it starts once checked."
    )


# --- deploy and undeploy from the Deployments tab ------------------------------------------------------------------


def _product_or_404(name: str):
    product = selectors.product_get(name=name)
    if product is None:
        raise Http404(f"No data product {name}")
    return product


def _request_refused(request: HttpRequest, product, message: str, status: int, *, active=None) -> HttpResponse:
    """The product's deployments again with the reason the request was refused (400, 403 or 409)."""
    data_product = dataproduct_get(name=product.entity_name)
    context = {"product": product, "data_product": data_product, "refusal": message, "active": active}
    if data_product is not None:
        context |= deployments_context(request, data_product)
        context["dp_url"] = reverse("dp:dataproduct_detail", args=[data_product.name]) + "?tab=deployments"
    return render_page(request, "provisioning/dataproduct_deployments.html", context, status=status)


def _requested(request: HttpRequest, product, create) -> HttpResponse:
    try:
        deployment = create()
    except ValidationError as exc:  # the model's own checks of the new row
        return _request_refused(request, product, _refusal(exc), 400)
    except (ServiceError, PermissionDenied) as exc:
        active = getattr(exc, "active", None)
        return _request_refused(request, product, _refusal(exc), error_status(exc) or 500, active=active)
    messages.success(
        request, f"{deployment.get_operation_display()} #{deployment.pk} requested: it is being checked before it runs."
    )
    return redirect("provisioning:deployment_detail", pk=deployment.pk)


@require_POST
def dataproduct_deploy(request: HttpRequest, name: str) -> HttpResponse:
    """Deploy a release of the product to an environment: a deployment that the worker checks before it runs."""
    product = _product_or_404(name)
    _may_run_required(request, product)
    form = DeployForm(request.POST)
    if not form.is_valid():
        return _request_refused(request, product, _form_errors(form), 400)
    data = form.cleaned_data
    release = selectors.release_of(product=product, version=data["release"])
    if release is None:
        return _request_refused(request, product, f"release: {name} has no release {data['release']!r}", 400)
    return _requested(
        request,
        product,
        lambda: services.deployment_request_create(
            release=release, environment=data["environment"], actor=request.user
        ),
    )


@require_POST
def dataproduct_undeploy(request: HttpRequest, name: str) -> HttpResponse:
    """Undeploy what an environment runs of the product (its data too with ``remove_data``)."""
    product = _product_or_404(name)
    _may_run_required(request, product)
    form = UndeployForm(request.POST)
    if not form.is_valid():
        return _request_refused(request, product, _form_errors(form), 400)
    data = form.cleaned_data
    return _requested(
        request,
        product,
        lambda: services.undeploy_request_create(
            product=product, environment=data["environment"], actor=request.user, remove_data=data["remove_data"]
        ),
    )


# --- the adapter registry ------------------------------------------------------------------------------------------


def _adapters_response(request: HttpRequest, *, form: TechAdapterForm | None = None, status: int = 200):
    filterset = TechAdapterFilterSet(request.GET, queryset=selectors.adapter_list())
    errors = [f"{name}: {' '.join(found)}" for name, found in filterset.errors.items()]
    context = {
        "filterset": filterset,
        "adapters": [] if errors else list(filterset.qs),
        "errors": errors,
        "environments": list(settings.MESHFORGE_ENVIRONMENTS),
        "list_url": reverse("provisioning:adapter_list"),
    }
    if errors and status == 200:
        status = 400
    if request.user.is_staff:
        context["form"] = form or TechAdapterForm()
    return render_page(request, "provisioning/adapter_list.html", context, status=status)


def _adapter_saved(request: HttpRequest, form: TechAdapterForm) -> TechAdapter | None:
    """Save a valid form through the service (validated again, audited); None with the errors on the form."""
    if not form.is_valid():
        return None
    try:
        return services.adapter_save(adapter=form.instance, actor=request.user)
    except ValidationError as exc:
        form.add_error(None, exc)
        return None


@require_http_methods(["GET", "POST"])
def adapter_list(request: HttpRequest) -> HttpResponse:
    """The registry: which adapter provisions each infrastructure template in each environment. Staff register one
    with the form below the list."""
    if request.method == "GET":
        return _adapters_response(request)
    _staff_required(request)
    form = TechAdapterForm(request.POST)
    adapter = _adapter_saved(request, form)
    if adapter is None:
        return _adapters_response(request, form=form, status=400)
    messages.success(request, f"Registered the adapter of {adapter}.")
    return redirect("provisioning:adapter_list")


def _adapter_or_404(pk: int) -> TechAdapter:
    adapter = selectors.adapter_list().filter(pk=pk).first()
    if adapter is None:
        raise Http404(f"No adapter #{pk}")
    return adapter


@require_http_methods(["GET", "POST"])
def adapter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One registry row; staff edit it here."""
    adapter = _adapter_or_404(pk)
    form = None
    status = 200
    if request.method == "POST":
        _staff_required(request)
        form = TechAdapterForm(request.POST, instance=adapter)
        if _adapter_saved(request, form) is not None:
            messages.success(request, f"Saved the adapter of {adapter}.")
            return redirect("provisioning:adapter_list")
        adapter, status = _adapter_or_404(pk), 400  # the form changed the instance: show the row as saved
    context = {"adapter": adapter, "list_url": reverse("provisioning:adapter_list")}
    if request.user.is_staff:
        context["form"] = form or TechAdapterForm(instance=adapter)
        context["delete_url"] = reverse("provisioning:adapter_delete", args=[adapter.pk])
    return render_page(request, "provisioning/adapter_detail.html", context, status=status)


@require_POST
def adapter_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_required(request)
    adapter = _adapter_or_404(pk)
    services.adapter_delete(adapter=adapter, actor=request.user)
    messages.success(request, f"Removed the adapter of {adapter}.")
    return redirect("provisioning:adapter_list")
