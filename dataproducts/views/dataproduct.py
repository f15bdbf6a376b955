"""The data product page and its tabs (overview, components, descriptor), and its descriptor as a file."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from core.htmx import render_page, wants_fragment
from dataproducts import selectors
from dataproducts.choices import COMPONENT_TYPES
from dataproducts.descriptor.adapter import descriptor_adapter_verdict
from dataproducts.graph import component_graph_svg
from dataproducts.models import DataProduct
from dataproducts.views import (
    builder_urls,
    component_rows,
    component_url,
    dataproduct_or_404,
    dataproduct_url,
    entity_url,
)

COMMITS_SHOWN = 10
TABS = {"overview": "Overview", "components": "Components", "descriptor": "Descriptor"}


def _overview_context(data_product: DataProduct) -> dict:
    entity = data_product.entity
    components = list(data_product.components.all())
    errors = []
    for label, item in [(f"Data product {data_product.name}", entity)] + [
        (f"Component {component.slug}", component.entity) for component in components
    ]:
        if item.all_errors:
            errors.append({"label": label, "url": entity_url(item), "messages": item.all_errors})
    return {
        "catalog_url": entity_url(entity),
        # the projection keeps the branch after '#'; `git clone` wants the repository alone
        "clone_url": data_product.repository_url.partition("#")[0],
        "commits": selectors.dataproduct_commits(data_product=data_product, limit=COMMITS_SHOWN),
        "entity_errors": errors,
        "component_count": len(components),
    }


def _components_context(data_product: DataProduct, *, may_write: bool) -> dict:
    components = list(data_product.components.all())
    context = {
        "component_rows": component_rows(data_product, components),
        "graph": component_graph_svg(
            components=components,
            url_of=lambda component: component_url(data_product, component),
            label=f"Dependencies between the components of {data_product.display_name}",
        ),
        "component_templates": [],
    }
    if may_write:
        context["component_templates"] = [
            {
                "template": template,
                "type": template.spec.get("type"),
                "url": reverse("dp:component_create_wizard", args=[data_product.name, template.ref]),
            }
            for template in selectors.template_list()
            if template.spec.get("type") in COMPONENT_TYPES
        ]
    return context


def _descriptor_context(request: HttpRequest, data_product: DataProduct) -> tuple[dict, int]:
    environments = list(settings.MESHFORGE_ENVIRONMENTS)
    environment = request.GET.get("env") or environments[0]
    context = {"environments": environments, "environment": environment}
    if environment not in environments:
        context["descriptor_error"] = (
            f"env: unknown environment {environment!r}; expected one of {', '.join(environments)}"
        )
        return context, 400
    view = selectors.dataproduct_descriptor(data_product=data_product, environment=environment)
    context["descriptor"] = view
    # The verdict is the strict one (what the tech adapters accept, PRODUCT §4.3), not the lenient reading.
    context["verdict"] = descriptor_adapter_verdict(view.descriptor, other_problems=view.errors)
    context["download_url"] = reverse("dp:dataproduct_descriptor_download", args=[data_product.name, environment])
    return context, 200


@require_GET
def dataproduct_detail(request: HttpRequest, name: str) -> HttpResponse:
    """The data product page; ``?tab=`` picks the panel, and htmx swaps only the tabs and their panel."""
    data_product = dataproduct_or_404(name)
    tab = request.GET.get("tab") or "overview"
    may_write = selectors.dataproduct_may_write(data_product=data_product, user=request.user)
    context = {
        "data_product": data_product,
        "entity": data_product.entity,
        "may_write": may_write,
        "tab": tab,
        "tabs": [
            {"key": key, "label": label, "url": dataproduct_url(data_product, key)} for key, label in TABS.items()
        ],
        "dp_url": dataproduct_url(data_product),
        "edit_url": reverse("dp:dataproduct_edit", args=[name]),
    }
    status = 200
    if tab == "overview":
        context |= _overview_context(data_product)
    elif tab == "components":
        context |= _components_context(data_product, may_write=may_write)
    elif tab == "descriptor":
        descriptor_context, status = _descriptor_context(request, data_product)
        context |= descriptor_context
    else:
        context["tab_error"] = f"tab: unknown tab {tab!r}; expected {', '.join(TABS)}"
        status = 400
    if not wants_fragment(request):
        context |= builder_urls()
    return render_page(
        request,
        "dataproducts/dataproduct_detail.html",
        context,
        partial="dataproducts/partials/dataproduct_tabs.html",
        status=status,
    )


@require_GET
def dataproduct_descriptor_download(request: HttpRequest, name: str, environment: str) -> HttpResponse:
    """The descriptor of one environment as a YAML file."""
    data_product = dataproduct_or_404(name)
    if environment not in settings.MESHFORGE_ENVIRONMENTS:
        raise Http404(f"No environment {environment}")
    view = selectors.dataproduct_descriptor(data_product=data_product, environment=environment)
    response = HttpResponse(view.yaml, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{data_product.name}-{environment}.yaml")
    return response
