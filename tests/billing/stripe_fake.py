"""Stripe at the HTTP edge: the SDK's requests are answered with recorded API responses
(tests/billing/stripe_responses/), and every request is kept for the test to read."""

import hashlib
import hmac
import json
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import stripe

RESPONSES = Path(__file__).parent / "stripe_responses"
WEBHOOK_SECRET = "whsec_test_contract"


class RecordedStripe(stripe.HTTPClient):
    name = "recorded"

    def __init__(self):
        super().__init__()
        self.routes: dict[tuple[str, str], list[tuple[int, str]]] = {}
        self.requests: list[dict] = []
        self.substitutions: dict[str, str] = {}

    def answer(self, method: str, path: str, recording: str, status: int = 200) -> None:
        self.routes.setdefault((method.upper(), path), []).append((status, recording))

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        params = dict(parse_qsl(post_data or parts.query or "", keep_blank_values=True))
        self.requests.append(
            {"method": method.upper(), "path": parts.path, "headers": dict(headers or {}), **params}
            | {"params": params}
        )
        queue = self.routes.get((method.upper(), parts.path))
        if not queue:
            raise AssertionError(f"no recorded response for {method.upper()} {parts.path}")
        status, recording = queue.pop(0) if len(queue) > 1 else queue[0]
        body = (RESPONSES / recording).read_text()
        for placeholder, value in self.substitutions.items():
            body = body.replace(placeholder, value)
        return body, status, {"request-id": "req_recorded"}

    def close(self):
        pass

    def sent(self, method: str, path: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and r["path"] == path]


def signature_header(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    timestamp = at or int(time.time())
    signed = f"{timestamp}.{payload.decode()}".encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event(event_id: str, kind: str, obj: dict) -> bytes:
    return json.dumps(
        {"id": event_id, "object": "event", "type": kind, "data": {"object": obj}}
    ).encode()
