"""The Builder's pages: the wizard (``wizard``) and the data product and component pages (``pages``)."""

from django.urls import reverse


def dataproduct_url(data_product, tab: str | None = None) -> str:
    """The data product's page, on one of its tabs."""
    url = reverse("dp:dataproduct_detail", args=[data_product.name])
    return f"{url}?tab={tab}" if tab else url
