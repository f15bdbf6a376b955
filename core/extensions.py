"""The door through which other apps add to the data product pages (STYLE habit 11, as NetBox's
``PluginTemplateExtension``): an app registers a :class:`DataProductExtension` in its ``AppConfig.ready()``, and
the data product views and templates loop over :data:`DATA_PRODUCT_EXTENSIONS`, so ``dataproducts`` shows the
app's tab, header badge and list column without importing the app (governance is the first such app).

An extension's callables run inside the views: they must keep the page's queries constant (one query for a badge,
an ``annotate()`` on the list's own query for a column, never a query per row)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest
    from django.utils.safestring import SafeString


@dataclass(frozen=True)
class Tab:
    """A tab of the data product page, after the page's own: ``context(request, data_product)`` returns what
    ``template`` reads (merged into the page's context, so keep it under the extension's own key), rendered inside
    the tab panel."""

    key: str
    label: str
    template: str
    context: Callable[[HttpRequest, object], dict]


@dataclass(frozen=True)
class ListColumn:
    """A column of the "My data products" table: ``annotate(queryset)`` adds what ``template`` reads to the list's
    own query, and ``template`` renders one row's cell content with ``data_product`` in its context."""

    label: str
    template: str
    annotate: Callable[[QuerySet], QuerySet]


@dataclass(frozen=True)
class DataProductExtension:
    """What one app adds to the data product pages; each part is optional.

    ``badge(request, data_product, context)`` returns the HTML of a badge for the page's header; ``context`` is the
    page's context so far (the extension's tab context when its tab is shown), so the badge may reuse what the tab
    already read."""

    name: str
    tab: Tab | None = None
    badge: Callable[[HttpRequest, object, dict], SafeString] | None = None
    list_column: ListColumn | None = None


# name → extension, in registration order; tests take one out with ``monkeypatch.delitem``
DATA_PRODUCT_EXTENSIONS: dict[str, DataProductExtension] = {}


def register_dataproduct_extension(extension: DataProductExtension) -> None:
    """Add (or replace, when ``ready()`` runs again) an app's extension of the data product pages."""
    DATA_PRODUCT_EXTENSIONS[extension.name] = extension


def dataproduct_extensions() -> list[DataProductExtension]:
    """The registered extensions, in registration order."""
    return list(DATA_PRODUCT_EXTENSIONS.values())
