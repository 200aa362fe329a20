"""Fixtures of the API tests: tokens for alice and bob, and a client that sends them."""

from datetime import date

import pytest

TODAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)


@pytest.fixture
def make_token():
    from api.services import token_create

    def make(customer, scope="buy", name="gestionale", expires_on=None):
        return token_create(
            customer=customer, name=name, scope=scope, expires_on=expires_on, today=TODAY
        )

    return make


@pytest.fixture
def api_client(client):
    """`api_client(raw).get(path)`: the Django test client with the bearer token."""

    class Bound:
        def __init__(self, raw):
            self.headers = {"Authorization": f"Bearer {raw}"} if raw else {}

        def get(self, path, data=None, **extra):
            return client.get("/api/v1" + path, data, headers={**self.headers, **extra})

        def post(self, path, body, key=None, **extra):
            headers = {**self.headers, **extra}
            if key is not None:
                headers["Idempotency-Key"] = key
            return client.post(
                "/api/v1" + path, body, content_type="application/json", headers=headers
            )

    return Bound


@pytest.fixture
def studio(make_mailbox):
    """alice's Pro mailbox expiring on 2027-05-25: six months left."""
    return make_mailbox("studio@pec.it", "pro", activated_on=date(2026, 5, 25))
