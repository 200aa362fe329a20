"""Writes of the API app: tokens (created, used, revoked) and idempotent orders."""

import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import date, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from api.models import ApiToken, IdempotencyKey, TokenScope
from area.listing import SqlValue
from billing.models import Order
from customers.models import Customer
from pecshop.cache import count as cache_count
from pecshop.prepared import Statement, prepared, together

TOKEN_PREFIX = "pec_"
LAST_USE_EVERY = timedelta(minutes=1)  # last use is written at most once a minute


class TokenError(Exception):
    """A token cannot be created as asked. The message is for the customer."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(
    *, customer: Customer, name: str, scope: str, expires_on: date | None, today: date
) -> tuple[ApiToken, str]:
    """A new token and its secret, which is returned here and never again."""
    name = (name or "").strip()
    if not name:
        raise TokenError("Dai un nome al token (es. «gestionale studio»).", field="name")
    if len(name) > 100:
        raise TokenError("Il nome può avere al massimo 100 caratteri.", field="name")
    if scope not in TokenScope.values:
        raise TokenError("Scegli i permessi del token.", field="scope")
    if expires_on is not None and expires_on <= today:
        raise TokenError("La scadenza del token deve essere futura.", field="expires_on")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        customer=customer,
        name=name,
        prefix=raw[:12],
        token_hash=token_hash(raw),
        scope=scope,
        expires_on=expires_on,
    )
    token.full_clean()
    token.save()
    return token, raw


def token_revoke(*, token: ApiToken) -> ApiToken:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token


@prepared
def _live_token(token_hash: str) -> QuerySet:
    # The hash is unique: nothing to order.
    return ApiToken.objects.select_related("customer").filter(
        token_hash=token_hash, revoked_at__isnull=True
    )


def _well_formed(raw: str) -> bool:
    return bool(raw) and raw.startswith(TOKEN_PREFIX) and len(raw) <= 200


def _in_use(token: ApiToken | None, today: date) -> ApiToken | None:
    """The token if it may be used today (up to the day before `expires_on`), its last use
    noted."""
    if token is None:
        return None
    if token.expires_on is not None and token.expires_on <= today:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_authenticate(raw: str, *, today: date) -> ApiToken | None:
    """The live token with this secret, its last use noted; None if unknown, revoked or
    expired (the token is valid up to the day before `expires_on`)."""
    if not _well_formed(raw):
        return None
    return _in_use(_live_token.first(token_hash=token_hash(raw)), today)


def token_account(raw: str, *, today: date) -> tuple[SqlValue, SqlValue]:
    """The account of the live token with this secret and its own holder, as subqueries
    (area.listing.SqlValue), for a statement sent with the token's lookup
    (`token_authenticate_together`): it reads that account's rows, and none when the token
    is unknown, revoked or expired."""
    live = (
        f"FROM {ApiToken._meta.db_table} t "  # noqa: S608 - table names; values bound
        f"JOIN {Customer._meta.db_table} c ON c.id = t.customer_id "
        "WHERE t.token_hash = %s AND t.revoked_at IS NULL "
        "AND (t.expires_on IS NULL OR t.expires_on > %s)"
    )
    params = [token_hash(raw), connection.ops.adapt_datefield_value(today)]
    return SqlValue(f"(SELECT c.id {live})", params), SqlValue(
        f"(SELECT c.own_holder_id {live})", params
    )


def token_authenticate_together(
    raw: str, statement: Statement, *, today: date
) -> tuple[ApiToken | None, list]:
    """`token_authenticate`, with `statement` (scoped by `token_account`) sent in the same
    round trip: the token, or None, and the statement's rows ([] without a token)."""
    if not _well_formed(raw):
        return None, []
    found, rows = together(_live_token.bind(token_hash=token_hash(raw)), statement)
    token = _in_use(found[0] if found else None, today)
    return token, rows if token is not None else []


def token_requests(raw: str, *, now=None) -> int:
    """Count one request of the token with this secret in its current minute (whether it
    is looked up before or after: every operation counts on the same key)."""
    now = now or timezone.now()
    return cache_count(f"api-rate:{token_hash(raw)[:32]}:{now:%Y%m%d%H%M}", 120)


class IdempotencyConflict(Exception):
    pass


def request_fingerprint(operation: str, payload: dict) -> str:
    body = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(f"{operation}\n{body}".encode()).hexdigest()


def order_place_once(
    *,
    customer: Customer,
    key: str,
    fingerprint: str,
    place: Callable[[str], Order],
) -> tuple[Order, bool]:
    """Place an order at most once per (customer, key): `place(placement_key)` is called
    with a placement key derived from both, so concurrent requests with the same key meet
    on the order's unique placement key and all get the one order. Returns the order and
    whether this is a replay: False for exactly one request, the one that records the key
    (whichever of the concurrent requests created the order, or a retry finding an order
    whose request died before recording it), so that one request, and only one, goes on to
    act on the order (a charge to the saved card). The same key with a different request
    raises IdempotencyConflict."""
    existing = IdempotencyKey.objects.filter(customer=customer, key=key).first()
    if existing is not None:
        if existing.fingerprint != fingerprint:
            raise IdempotencyConflict
        return Order.objects.get(pk=existing.order_id), True
    placement_key = "api-" + hashlib.sha256(f"{customer.pk}:{key}".encode()).hexdigest()[:56]
    before = Order.objects.filter(customer=customer, placement_key=placement_key).first()
    order = before or place(placement_key)
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                customer=customer, key=key, fingerprint=fingerprint, order=order
            )
    except IntegrityError:
        existing = IdempotencyKey.objects.get(customer=customer, key=key)
        if existing.fingerprint != fingerprint:
            raise IdempotencyConflict from None
        return order, True
    return order, False
