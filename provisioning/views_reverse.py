"""The reverse provisioning pages (PRODUCT §6): a component's page to run its adapter's reverse provisioning in an
environment, and a run's page with the adapter's logs, the YAML diff its updates make to ``catalog-info.yaml``, and
Confirm (commit) or Discard. Only the product's owners and staff see them (403 for everyone else)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import yaml
from core.errors import ServiceError
from dataproducts.exceptions import StaleEdit
from dataproducts.models import Component
from dataproducts.selectors import component_get
from provisioning import reverse as services
from provisioning.choices import ReverseProvisioningStatus
from provisioning.models import ReverseProvisioning

RECENT_RUNS = 10
STALE_MESSAGE = (
    "catalog-info.yaml changed in Git since the diff you confirmed was shown: look at the diff below, made against "
    "the file as it is now, and confirm again."
)


class ReverseProvisioningForm(forms.Form):
    environment = forms.ChoiceField(choices=())
    params = forms.CharField(
        label="Parameters",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="Optional: the adapter's input params, a YAML or JSON mapping (for instance table: balances).",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["environment"].choices = [(name, name) for name in settings.MESHFORGE_ENVIRONMENTS]

    def clean_params(self) -> dict:
        text = self.cleaned_data.get("params") or ""
        if not text.strip():
            return {}
        try:
            value = yaml.load(text, source="params", max_bytes=services.MAX_PARAMS_BYTES)
        except yaml.YamlError as exc:
            raise forms.ValidationError(str(exc)) from exc
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError("must be a mapping of parameter names to values")
        return value


def _component_or_404(name: str) -> Component:
    component = component_get(name=name)
    if component is None:
        raise Http404(f"No component {name} in the catalog")
    return component


def _run_or_404(pk: int) -> ReverseProvisioning:
    run = services.reverse_provisioning_get(pk=pk)
    if run is None:
        raise Http404(f"No reverse provisioning #{pk}")
    return run


def _may_run_required(request: HttpRequest, product) -> None:
    """403 before any form is read for whoever the services would refuse anyway (another team's member)."""
    if not services.reverse_provisioning_may_run(product=product, user=request.user):
        raise PermissionDenied(f"only the owners of {product.entity_name} may reverse-provision its components")


def _refusal(exc: ServiceError) -> list[str]:
    """A service's refusal as the page says it: each field path with its messages."""
    errors = getattr(exc, "errors", None)
    if isinstance(errors, dict):
        return [f"{path}: {message}" if path else message for path, found in errors.items() for message in found]
    field = getattr(exc, "field", "")
    message = f"{field}: {exc}" if field else str(exc)
    return [f"Nothing was changed: {message}" if exc.status >= 500 else message]


def _component_urls(component: Component) -> dict:
    return {
        "component": reverse("dp:component_detail", args=[component.data_product.name, component.slug]),
        "run": reverse("provisioning-reverse:reverse_provisioning_component", args=[component.name]),
    }


@require_http_methods(["GET", "POST"])
def reverse_provisioning_component(request: HttpRequest, name: str) -> HttpResponse:
    """The component's reverse provisioning: choose the environment (and params), run; the run's page follows."""
    component = _component_or_404(name)
    product = services.component_product(component=component)
    _may_run_required(request, product)
    posted = request.POST if request.method == "POST" else None  # an empty form is bound: its errors are shown
    form = ReverseProvisioningForm(posted, initial={"environment": settings.MESHFORGE_ENVIRONMENTS[0]})
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                run = services.reverse_provisioning_run(
                    component=component,
                    environment=form.cleaned_data["environment"],
                    params=form.cleaned_data["params"],
                    actor=request.user,
                )
            except ServiceError as exc:
                errors, status = _refusal(exc), exc.status
            else:
                return redirect("provisioning-reverse:reverse_provisioning_detail", pk=run.pk)
        else:
            status = 400
    context = {
        "component": component,
        "data_product": component.data_product,
        "form": form,
        "errors": errors,
        "runs": services.reverse_provisionings_of(component_name=component.name, limit=RECENT_RUNS),
        "urls": _component_urls(component),
    }
    return render(request, "provisioning/reverse_component.html", context, status=status)


def _detail(request: HttpRequest, run: ReverseProvisioning, *, errors=(), status: int = 200, stale=False):
    """The run's page; when it awaits review, with the diff its updates make to the file as it is in Git now."""
    component = component_get(name=run.component_name)
    patch = None
    preview_errors: list[str] = []
    if run.status == ReverseProvisioningStatus.READY:
        try:
            patch = services.reverse_provisioning_preview(run=run)
        except ServiceError as exc:  # the adapter's updates cannot be written: said, and nothing to confirm
            preview_errors = _refusal(exc)
    context = {
        "run": run,
        "component": component,
        "patch": patch,
        "errors": list(errors),
        "preview_errors": preview_errors,
        "stale": stale,
        "changed_since_run": patch is not None and run.base_revision and patch.revision != run.base_revision,
        "updates_yaml": yaml.dump(run.updates) if run.updates else "",
        "params_yaml": yaml.dump(run.params) if run.params else "",
        "urls": {
            **(_component_urls(component) if component else {}),
            "apply": reverse("provisioning-reverse:reverse_provisioning_apply", args=[run.pk]),
            "discard": reverse("provisioning-reverse:reverse_provisioning_discard", args=[run.pk]),
        },
    }
    return render(request, "provisioning/reverse_detail.html", context, status=status)


@require_GET
def reverse_provisioning_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_or_404(pk)
    _may_run_required(request, run.product)
    return _detail(request, run)


@require_POST
def reverse_provisioning_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm: commit the updates previewed against ``base_revision``."""
    run = _run_or_404(pk)
    _may_run_required(request, run.product)
    try:
        run = services.reverse_provisioning_apply(
            run=run, actor=request.user, base_revision=request.POST.get("base_revision", "")
        )
    except StaleEdit as exc:
        return _detail(request, run, errors=[STALE_MESSAGE], status=exc.status, stale=True)
    except ServiceError as exc:
        return _detail(request, run, errors=_refusal(exc), status=exc.status)
    if run.commit_sha:
        messages.success(request, f"Committed {run.commit_sha[:7]} to catalog-info.yaml.")
    else:
        messages.info(request, "Nothing to change: catalog-info.yaml already holds these values.")
    return redirect("provisioning-reverse:reverse_provisioning_detail", pk=run.pk)


@require_POST
def reverse_provisioning_discard(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_or_404(pk)
    _may_run_required(request, run.product)
    try:
        services.reverse_provisioning_discard(run=run, actor=request.user)
    except ServiceError as exc:
        return _detail(request, run, errors=_refusal(exc), status=exc.status)
    messages.info(request, "Discarded: nothing was committed.")
    if component_get(name=run.component_name) is None:
        return redirect("provisioning-reverse:reverse_provisioning_detail", pk=run.pk)
    return redirect("provisioning-reverse:reverse_provisioning_component", name=run.component_name)
