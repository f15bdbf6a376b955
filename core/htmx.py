"""One URL for a page and its fragment: htmx requests get the partial, everything else the full page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def wants_fragment(request: HttpRequest) -> bool:
    """An htmx request that swaps part of the page: not a boosted one, nor htmx restoring a page from history
    after Back (both want the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx and not htmx.boosted and not htmx.history_restore_request)


def render_page(
    request: HttpRequest,
    template: str,
    context: dict | None = None,
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render ``partial`` for htmx requests (not boosted ones, nor htmx restoring a page from history after
    Back: those want the whole page), ``template`` otherwise, and send ``Vary: HX-Request`` so that caches
    keep the two apart."""
    chosen = partial if partial and wants_fragment(request) else template
    response = render(request, chosen, context or {}, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response
