"""One URL for a page and its fragment: htmx requests get the partial, everything else the full page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


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
    htmx = getattr(request, "htmx", None)
    fragment = htmx and not htmx.boosted and not htmx.history_restore_request
    chosen = partial if partial and fragment else template
    response = render(request, chosen, context or {}, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response
