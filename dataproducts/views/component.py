"""A component's page (its data contract, dependencies and users) and its removal."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import ServiceError
from dataproducts import selectors, services
from dataproducts.descriptor.contract import contract_of
from dataproducts.views import (
    component_or_404,
    component_rows,
    component_url,
    dataproduct_or_404,
    dataproduct_url,
    entity_url,
    writer_required,
)


@require_GET
def component_detail(request: HttpRequest, name: str, slug: str) -> HttpResponse:
    data_product = dataproduct_or_404(name)
    component = component_or_404(data_product, slug)
    components = list(data_product.components.all())
    entity = component.entity
    mesh = entity.spec.get("mesh") if isinstance(entity.spec.get("mesh"), dict) else {}
    reads_from = mesh.get("readsFrom") if isinstance(mesh.get("readsFrom"), list) else []
    context = {
        "data_product": data_product,
        "component": component,
        "entity": entity,
        "mesh": mesh,
        "contract": contract_of(mesh),
        "depends_on": next(
            row["depends_on"] for row in component_rows(data_product, components) if row["component"] is component
        ),
        "used_by": [
            {"component": other, "url": component_url(data_product, other)}
            for other in components
            if isinstance(other.depends_on, list) and component.component_id in other.depends_on
        ],
        "reads_from": [urn for urn in reads_from if isinstance(urn, str)],
        "may_write": selectors.dataproduct_may_write(data_product=data_product, user=request.user),
        "dp_url": dataproduct_url(data_product),
        "components_url": dataproduct_url(data_product, "components"),
        "catalog_url": entity_url(entity),
        "edit_url": reverse("dp:component_edit", args=[name, slug]),
        "remove_url": reverse("dp:component_remove", args=[name, slug]),
    }
    return render(request, "dataproducts/component_detail.html", context)


@require_http_methods(["GET", "POST"])
def component_remove(request: HttpRequest, name: str, slug: str) -> HttpResponse:
    """A confirmation page (GET), then the removal (POST) of the component's files from Git."""
    data_product = dataproduct_or_404(name)
    component = component_or_404(data_product, slug)
    writer_required(request, data_product)
    used_by = [
        other
        for other in data_product.components.all()
        if isinstance(other.depends_on, list) and component.component_id in other.depends_on
    ]
    context = {
        "data_product": data_product,
        "component": component,
        "used_by": used_by,
        "component_url": component_url(data_product, component),
        "error": None,
    }
    status = 200
    if request.method == "POST":
        try:
            services.component_remove(component=component, actor=request.user)
        except ServiceError as exc:
            status = exc.status
            context["error"] = f"The component could not be removed: {exc}" if status >= 500 else str(exc)
        else:
            messages.success(request, f"Removed the component {component.display_name} ({component.component_id}).")
            return redirect(dataproduct_url(data_product, "components"))
    return render(request, "dataproducts/component_remove.html", context, status=status)
