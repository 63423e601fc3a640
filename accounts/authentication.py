"""API authentication by token: `Authorization: Token <key>`, the key looked up by its SHA-256
(`accounts.models.ApiToken`). Replaces `rest_framework.authtoken`, which stored keys in clear."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts import selectors, services


class ApiTokenAuthentication(BaseAuthentication):
    """One query per request (the token and its user); `last_used_at` is written at most once a
    minute. A wrong, revoked or malformed token, or a deactivated user, is a 401 in the API's
    error shape; no `Authorization: Token` header leaves the request to the next class."""

    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("En-tête d'authentification invalide : « Token <clé> » attendu.")
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("Jeton invalide.")) from exc
        return self.authenticate_credentials(key)

    def authenticate_credentials(self, key: str):
        token = selectors.api_token_for_key(key)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Jeton invalide."))
        services.api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword  # makes a refusal a 401 (with WWW-Authenticate), not a 403


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The same security scheme in the OpenAPI schema as DRF's TokenAuthentication had."""

    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Token-based authentication with required prefix "Token"',
        }
