from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.forms import ApiTokenForm, SignInForm
from core.htmx import render_page
from core.selectors import OK, api_token_list, system_health
from core.services import api_token_create, api_token_revoke


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    parts = system_health()
    healthy = all(value == OK for value in parts.values())
    return JsonResponse(parts, status=200 if healthy else 503)


def throttled(response: HttpResponse, form) -> HttpResponse:
    """A sign-in refused by the throttle answers 429 with Retry-After; the page shows the form and the message."""
    refusal = getattr(form, "refusal", None)
    if refusal is not None:
        response.status_code = 429
        response["Retry-After"] = str(refusal.retry_after)
    return response


class SignInView(LoginView):
    template_name = "core/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        return throttled(super().form_invalid(form), form)


@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None, user=request.user)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            token, new_key = api_token_create(
                user=request.user, name=form.cleaned_data["name"], actor=request.user, expires_at=form.expires_at()
            )
        except ValidationError as exc:
            # the expiry comes from a fixed choice, so every rule the model enforces is about the name
            for message in exc.messages:
                form.add_error("name", message)
        else:
            messages.success(request, f"Token “{token.name}” created. Copy it now: it will not be shown again.")
            form = ApiTokenForm(user=request.user)
    context = {
        "form": form,
        "new_key": new_key,
        "tokens": api_token_list(user=request.user),
        "teams": request.user.groups.order_by("name"),
    }
    return render_page(request, "core/profile.html", context, status=400 if form.errors else 200)


@require_POST
def api_token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(api_token_list(user=request.user), pk=pk)
    try:
        api_token_revoke(token=token, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("profile")
