"""The Builder's pages, one module per page (PRODUCT §4, §9): ``home`` ("My data products"), ``dataproduct``
(the data product page and its descriptor), ``component`` (a component's page and its removal), ``edit``
(editing through an edit template), ``domains`` and ``wizard`` (templates and the creation wizards). Views
parse input, call one selector or service and render; services check authorization again, and write buttons
show only to people who may write. What several pages share is here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.urls import reverse

from catalog.models import Entity
from dataproducts import selectors
from dataproducts.models import Component, DataProduct


def dataproduct_url(data_product, tab: str | None = None) -> str:
    """The data product's page, on one of its tabs."""
    url = reverse("dp:dataproduct_detail", args=[data_product.name])
    return f"{url}?tab={tab}" if tab else url


def dataproduct_or_404(name: str) -> DataProduct:
    data_product = selectors.dataproduct_get(name=name)
    if data_product is None:
        raise Http404(f"No data product {name} in the catalog")
    return data_product


def component_or_404(data_product: DataProduct, slug: str) -> Component:
    # the components come prefetched with the data product: finding one here costs no query
    for component in data_product.components.all():
        if component.slug == slug:
            return component
    raise Http404(f"No component {slug} in the data product {data_product.name}")


def writer_required(request: HttpRequest, data_product: DataProduct) -> None:
    """Answer 403 before showing a write form to someone the service would refuse anyway."""
    if not selectors.dataproduct_may_write(data_product=data_product, user=request.user):
        team = data_product.owner_team or data_product.owner_ref or "its owner team"
        raise PermissionDenied(f"only members of {team} may change {data_product.name}")


def component_url(data_product: DataProduct, component: Component) -> str:
    return reverse("dp:component_detail", args=[data_product.name, component.slug])


def entity_url(entity: Entity) -> str:
    return reverse(
        "catalog:entity_detail",
        kwargs={"kind": entity.kind.lower(), "namespace": entity.namespace, "name": entity.name},
    )


def builder_urls() -> dict:
    # Reversed here, not in templates: under /dp/ the {% url %} tag would look for the Builder's routes in the
    # "dp" instance of the dataproducts namespace, which does not have them.
    return {
        "builder_url": reverse("dataproducts:home"),
        "new_dataproduct_url": reverse("dataproducts:template_list") + "?type=dataproduct",
        "domains_url": reverse("dataproducts:domain_list"),
    }


def component_rows(data_product: DataProduct, components: list[Component]) -> list[dict]:
    by_id = {component.component_id: component for component in components}
    rows = []
    for component in components:
        depends_on = []
        for urn in component.depends_on if isinstance(component.depends_on, list) else []:
            target = by_id.get(urn)
            depends_on.append(
                {
                    "id": urn,
                    "label": target.display_name if target else urn,
                    "url": component_url(data_product, target) if target else None,
                }
            )
        rows.append({"component": component, "url": component_url(data_product, component), "depends_on": depends_on})
    return rows
