"""The Builder's home, "My data products": the data products of the user's teams (staff: all), with filters,
search as you type and pages; htmx swaps only the results."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from core.extensions import dataproduct_extensions
from core.htmx import render_page, wants_fragment
from dataproducts import selectors
from dataproducts.filtersets import DataProductFilterSet
from dataproducts.views import builder_urls

PAGE_SIZE = 25
MATURITIES = ("Tactical", "Strategic")


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The data products of the user's teams (staff: all), with filters, search as you type and pages."""
    data = request.GET.copy()
    if "mine" not in data:
        # people start from their own teams' products; the platform team looks after all of them
        data["mine"] = "" if request.user.is_staff else "true"
    queryset = selectors.dataproduct_list(user=request.user).annotate(component_count=Count("components"))
    # the columns that extensions add (governance: the compliance badge) ride on the list's own query
    columns = [extension.list_column for extension in dataproduct_extensions() if extension.list_column]
    for column in columns:
        queryset = column.annotate(queryset)
    filterset = DataProductFilterSet(data, queryset=queryset, request=request)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    fragment = wants_fragment(request)
    context = {"filterset": filterset, "page": page, "fragment": fragment, "mine": data["mine"], "columns": columns}
    if not fragment:
        every = selectors.dataproduct_list(user=request.user).order_by()
        selected = {key: data.get(key, "") for key in ("domain", "owner_team", "maturity")}

        def options(field: str, chosen: str) -> list[str]:
            # what the products have, and what the URL asks for even when nothing has it (it stays selected)
            return sorted((set(every.values_list(field, flat=True).distinct()) | {chosen}) - {""})

        context |= builder_urls() | {
            "selected": selected,
            "domain_options": options("domain_name", selected["domain"]),
            "team_options": options("owner_team", selected["owner_team"]),
            "maturity_options": MATURITIES,
        }
    # a filter value that cannot be read (major=abc) is said next to the results, not silently ignored
    status = 200 if filterset.is_valid() else 400
    partial = "dataproducts/partials/dataproduct_results.html"
    return render_page(request, "dataproducts/home.html", context, partial=partial, status=status)
