"""Versions of what an account's Area Clienti shows, so its pages can be kept rendered.

Each account has a version token in the shared cache (Redis in production), and one
generation token covers every account. A page rendered for an account is kept under both
tokens; it is used again until either changes:

- `account_changed(customer_id)` drops the account's token. Saving or deleting any row the
  Area Clienti shows (mailboxes, their add-ons and events, holders, the customer, orders,
  invoices) does it through the receivers in `area.signals`.
- `all_accounts_changed()` drops the generation. The set-based lifecycle jobs, which write
  with plain SQL and so send no signals, call it for every batch they change.

A token is dropped both at once and when the transaction commits: a request that rendered
the old rows in between keeps its page under a token nobody asks for again. Tokens also
expire after `TOKEN_TIMEOUT` seconds, which bounds how long a change made by a path that
says nothing (a manual UPDATE in a database shell) can go unseen.
"""

import uuid
from collections.abc import Sequence

from django.core.cache import cache

from pecshop.cache import forget

GENERATION_KEY = "accounts:generation"
TOKEN_TIMEOUT = 300


def _account_key(customer_id: int) -> str:
    return f"account:{customer_id}:version"


def account_changed(customer_id: int | None) -> None:
    if customer_id is not None:
        forget(_account_key(customer_id))


def all_accounts_changed() -> None:
    forget(GENERATION_KEY)


def account_version(customer_id: int, *, also: Sequence[str] = ()) -> tuple[str, dict]:
    """The account's token and the generation, as one string, and the values of the `also`
    keys that the caller needs beside them, in one cache round trip."""
    keys = [_account_key(customer_id), GENERATION_KEY]
    found = cache.get_many([*keys, *also])
    tokens = []
    for key in keys:
        token = found.pop(key, None)
        if token is None:
            token = uuid.uuid4().hex
            if not cache.add(key, token, timeout=TOKEN_TIMEOUT):
                # Another process made one first: use theirs.
                token = cache.get(key) or token
        tokens.append(token)
    return "-".join(tokens), found
