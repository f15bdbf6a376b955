"""Token authentication for scripts: ``Authorization: Bearer <token>`` (Backstage clients) or
``Authorization: Token <token>`` (DRF's usual keyword)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from core.services import ApiTokenExpired, api_token_authenticate

KEYWORDS = {b"bearer", b"token"}


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid Authorization header: expected '<keyword> <token>'."))
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        try:
            token = api_token_authenticate(key)
        except ApiTokenExpired as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="meshforge"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token from your profile page, as `Bearer <token>` (or `Token <token>`).",
        }
