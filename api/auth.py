"""Who is calling the API: a bearer token of a customer, checked, rate-limited, scoped."""

from django.conf import settings
from django.utils import timezone
from ninja.security import HttpBearer

from api.models import ApiToken
from api.services import (
    token_account,
    token_authenticate,
    token_authenticate_together,
    token_requests,
)
from area.listing import SqlValue
from pecshop.prepared import Statement


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


class PendingToken:
    """A token's secret not looked up yet (`TokenAuth(together=True)`): it has no account
    to give until `authenticate_with` has checked it."""

    def __init__(self, raw: str):
        self.raw = raw

    def account(self) -> tuple[SqlValue, SqlValue]:
        """The token's account and own holder as subqueries, to scope the statement sent
        with the lookup: it reads nothing unless the token is live."""
        return token_account(self.raw, today=timezone.localdate())

    def authenticate_with(self, request, statement: Statement) -> list:
        """Look the token up with `statement` in one round trip; 401 unless the token is
        live. Then `request.auth` is the ApiToken, as after TokenAuth(), and the
        statement's rows are returned."""
        token, rows = token_authenticate_together(self.raw, statement, today=timezone.localdate())
        if token is None:
            raise ApiError(401, BAD_TOKEN, field="Authorization")
        request.auth = request.api_token = token
        return rows


class TokenAuth(HttpBearer):
    """The token is looked up and the request counted against its limit (per token and
    minute, API_RATE_LIMIT_PER_MINUTE); `request.auth` is the ApiToken.

    `together=True` is for an operation whose first read goes to the database with the
    token's lookup, one round trip instead of two: here only the request is counted (past
    the limit, 429 before any lookup), and `request.auth` is a PendingToken. The operation
    scopes its statement with `request.auth.account()` and reads nothing before
    `request.auth.authenticate_with(request, statement)`."""

    def __init__(self, *, together: bool = False):
        super().__init__()
        self.together = together

    def authenticate(self, request, token: str) -> ApiToken | PendingToken:
        raw = token.strip()
        if self.together:
            self._count(raw)
            return PendingToken(raw)
        api_token = token_authenticate(raw, today=timezone.localdate())
        if api_token is None:
            raise ApiError(401, BAD_TOKEN, field="Authorization")
        self._count(raw)
        request.api_token = api_token
        return api_token

    @staticmethod
    def _count(raw: str) -> None:
        if token_requests(raw) > settings.API_RATE_LIMIT_PER_MINUTE:
            raise ApiError(429, TOO_MANY, headers={"Retry-After": "60"})


def buyer(request) -> None:
    """Only a read-and-buy token may place orders."""
    if not request.auth.can_buy:
        raise ApiError(403, READ_ONLY, field="Authorization")
