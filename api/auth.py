"""Who is calling the API: a bearer token of a customer, checked, rate-limited, scoped."""

from django.conf import settings
from django.utils import timezone
from ninja.security import HttpBearer

from api.models import ApiToken
from api.services import token_authenticate, token_rate_exceeded


class ApiError(Exception):
    """An answer other than 2xx, always shaped {"error": "...", "field": "..."}."""

    def __init__(self, status: int, message: str, *, field: str | None = None, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.headers = headers or {}


MISSING_TOKEN = "Manca il token: usa l'intestazione «Authorization: Bearer <token>»."
BAD_TOKEN = "Token non valido, revocato o scaduto."
READ_ONLY = "Questo token è di sola lettura: per acquistare serve un token «lettura e acquisti»."
TOO_MANY = "Troppe richieste con questo token: riprova tra un minuto."


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str) -> ApiToken:
        api_token = token_authenticate(token.strip(), today=timezone.localdate())
        if api_token is None:
            raise ApiError(401, BAD_TOKEN, field="Authorization")
        if token_rate_exceeded(api_token, limit=settings.API_RATE_LIMIT_PER_MINUTE):
            raise ApiError(429, TOO_MANY, headers={"Retry-After": "60"})
        request.api_token = api_token
        return api_token


def buyer(request) -> None:
    """Only a read-and-buy token may place orders."""
    if not request.auth.can_buy:
        raise ApiError(403, READ_ONLY, field="Authorization")
