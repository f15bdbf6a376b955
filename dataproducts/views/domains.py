"""The domains: a list for everyone; creating and editing for the platform team (staff)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import ServiceError
from dataproducts import selectors, services
from dataproducts.exceptions import ValuesInvalid
from dataproducts.forms import DomainForm
from dataproducts.models import Domain


@require_GET
def domain_list(request: HttpRequest) -> HttpResponse:
    domains = selectors.domain_list(with_counts=True)
    return render(request, "dataproducts/domain_list.html", {"domains": domains, "may_create": request.user.is_staff})


def _staff_required(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied("only the platform team (staff) may create or change domains")


def _domain_form(request: HttpRequest, *, domain: Domain | None = None) -> DomainForm:
    initial = {}
    if domain is not None:
        initial = {
            "name": domain.name,
            "title": domain.title,
            "description": domain.description,
            "owner_ref": domain.owner_ref,
            "parent": domain.parent_name,
        }
    return DomainForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        owner_choices=selectors.user_team_refs(user=request.user),
        parent_choices=list(selectors.domain_list().values_list("name", flat=True)),
        editing=domain.name if domain is not None else None,
    )


def _domain_save(request: HttpRequest, form: DomainForm, *, domain: Domain | None) -> tuple[Domain | None, int]:
    """Call the service with the form's values; its refusals go next to the fields they name, with their status."""
    data = form.cleaned_data
    fields = {
        "title": data["title"],
        "description": data["description"],
        "owner_ref": data["owner_ref"],
        "parent": data["parent"] or None,
        "actor": request.user,
    }
    try:
        if domain is None:
            return services.domain_create(name=data["name"], **fields), 200
        return services.domain_update(domain=domain, **fields), 200
    except ValuesInvalid as exc:
        for path, path_messages in exc.errors.items():
            form.add_error(path if path in form.fields else None, path_messages)
        return None, 400
    except ValidationError as exc:
        for path, path_messages in (exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}).items():
            path = {"parent_name": "parent"}.get(path, path)
            form.add_error(path if path in form.fields else None, path_messages)
        return None, 400
    except ValueError as exc:
        form.add_service_error(exc)
        return None, 400
    except ServiceError as exc:
        form.add_error(None, f"The domain could not be saved: {exc}" if exc.status >= 500 else str(exc))
        return None, exc.status


@require_http_methods(["GET", "POST"])
def domain_create(request: HttpRequest) -> HttpResponse:
    _staff_required(request)
    return _domain_form_page(request, domain=None, done="Created the domain {name}.")


@require_http_methods(["GET", "POST"])
def domain_edit(request: HttpRequest, name: str) -> HttpResponse:
    domain = selectors.domain_get(name=name)
    if domain is None:
        raise Http404(f"No domain {name} in the catalog")
    _staff_required(request)
    return _domain_form_page(request, domain=domain, done="Saved the domain {name}.")


def _domain_form_page(request: HttpRequest, *, domain, done: str) -> HttpResponse:
    """The domain form (a new one when ``domain`` is None): saved on a valid POST, then back to the list saying
    ``done``; else shown again with its errors (400) or the refusal's status."""
    form = _domain_form(request, domain=domain)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            saved, status = _domain_save(request, form, domain=domain)
            if saved is not None:
                messages.success(request, done.format(name=saved.name))
                return redirect("dataproducts:domain_list")
    return render(request, "dataproducts/domain_form.html", {"form": form, "domain": domain}, status=status)
