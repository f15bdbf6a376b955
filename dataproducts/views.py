from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from core.htmx import render_page


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render_page(request, "dataproducts/home.html")
