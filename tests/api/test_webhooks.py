"""Webhooks against a real HTTP receiver on 127.0.0.1 (http.server in a thread): each event
once, signed; a receiver that is down gets the delivery when it is back."""

import json
import socket
import threading
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from api.models import DeliveryStatus, WebhookDelivery, WebhookEventType
from api.webhooks import (
    backoff,
    verify,
    webhook_endpoint_create,
    webhook_resend,
    webhooks_collect,
    webhooks_send_due,
)
from billing.services.items import ItemSpec

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


class Receiver:
    """A local HTTP server that records every POST (and answers `status`)."""

    def __init__(self, port: int = 0, status: int = 200):
        self.requests: list[dict] = []
        self.status = status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append(
                    {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                )
                self.send_response(outer.status)
                self.end_headers()
                self.wfile.write(b"ricevuto")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[str]:
        return [json.loads(r["body"])["type"] for r in self.requests]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_local_receiver_gets_each_event_once_with_a_valid_signature(
    alice, bob, receiver, make_mailbox, order_for, pay, monkeypatch
):
    from mailboxes.lifecycle import reminders, usage_alerts
    from mailboxes.models import MailboxStatus
    from mailboxes.services import mailbox_set_usage, mailbox_transition

    endpoint = webhook_endpoint_create(
        customer=alice, url=receiver.url, events=WebhookEventType.values
    )
    webhooks_collect(today=date(2026, 11, 25))  # nothing yet
    mailbox = make_mailbox("studio@pec.it", "pro", activated_on=date(2026, 5, 25))
    make_mailbox("bob@pec.it", customer=bob)  # bob's events never reach alice's endpoint
    order = order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, mailbox.pk))
    pay(order)
    # 90 days before the expiry of 25/05/2027: the first reminder.
    reminders(today=date(2027, 2, 24))
    mailbox_set_usage(mailbox=mailbox, mailbox_mb=1900, archive_mb=0, conservation_mb=0, at=NOW)
    usage_alerts(today=date(2027, 2, 24))
    mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.EXPIRED, today=date(2027, 5, 25))
    mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.CANCELLED, today=date(2027, 8, 23))
    sent_at = timezone.now() + timedelta(seconds=5)
    for _ in range(2):  # a second run of the jobs sends nothing twice
        webhooks_collect(today=date(2027, 2, 24))
        webhooks_send_due(now=sent_at)

    assert sorted(receiver.events()) == sorted(
        [
            "order.paid",
            "invoice.issued",
            "mailbox.expiring",
            "mailbox.usage_above_90",
            "mailbox.expired",
            "mailbox.cancelled",
        ]
    )
    for request in receiver.requests:
        headers = request["headers"]
        assert verify(
            endpoint.secret,
            headers["x-pecshop-signature"],
            request["body"],
            now=sent_at.timestamp(),
        )
        assert not verify(
            "whsec_altro", headers["x-pecshop-signature"], request["body"], now=sent_at.timestamp()
        )
        assert not verify(
            endpoint.secret,
            headers["x-pecshop-signature"],
            request["body"] + b" ",
            now=sent_at.timestamp(),
        )
        # A replay ten minutes later is refused by its timestamp.
        assert not verify(
            endpoint.secret,
            headers["x-pecshop-signature"],
            request["body"],
            now=sent_at.timestamp() + 600,
        )
    paid = next(json.loads(r["body"]) for r in receiver.requests if b"order.paid" in r["body"])
    assert paid["data"]["order"]["number"] == order.number
    assert paid["data"]["order"]["total"] == "12.20"
    expiring = next(
        json.loads(r["body"]) for r in receiver.requests if b"mailbox.expiring" in r["body"]
    )
    assert expiring["data"]["days_left"] == 90
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 6
    assert set(WebhookDelivery.objects.values_list("response_status", flat=True)) == {200}


def test_a_receiver_down_for_a_while_gets_the_delivery_when_it_is_back(
    alice, make_mailbox, order_for, pay
):
    port = _free_port()
    endpoint = webhook_endpoint_create(
        customer=alice, url=f"http://127.0.0.1:{port}/hook", events=["order.paid"]
    )
    mailbox = make_mailbox("studio@pec.it", "pro", activated_on=date(2026, 5, 25))
    pay(order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, mailbox.pk)))
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=NOW, next_attempt_at=NOW)

    assert webhooks_send_due(now=NOW)["retry"] == 1  # nobody listens: connection refused
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.error and delivery.next_attempt_at == NOW + timedelta(minutes=1)
    later = NOW + timedelta(seconds=30)
    assert webhooks_send_due(now=later)["retry"] == 0  # not due yet: backoff
    assert webhooks_send_due(now=NOW + timedelta(minutes=1))["retry"] == 1
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == NOW + timedelta(minutes=3)  # 1 + 2 minutes

    back = Receiver(port=port)
    try:
        assert webhooks_send_due(now=NOW + timedelta(hours=1))["delivered"] == 1
        assert back.events() == ["order.paid"]
        assert verify(
            endpoint.secret,
            back.requests[0]["headers"]["x-pecshop-signature"],
            back.requests[0]["body"],
            now=(NOW + timedelta(hours=1)).timestamp(),
        )
        assert webhooks_send_due(now=NOW + timedelta(hours=2)) == {
            "delivered": 0,
            "retry": 0,
            "failed": 0,
            "skipped": 0,
        }
    finally:
        back.stop()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 3
    assert delivery.response_body == "ricevuto"


def test_a_delivery_is_retried_for_24_hours_then_given_up(
    alice, receiver, make_mailbox, order_for, pay
):
    receiver.status = 500
    webhook_endpoint_create(customer=alice, url=receiver.url, events=["order.paid"])
    mailbox = make_mailbox("studio@pec.it", "pro", activated_on=date(2026, 5, 25))
    pay(order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, mailbox.pk)))
    WebhookDelivery.objects.update(created_at=NOW, next_attempt_at=NOW)
    now = NOW
    while True:
        outcome = webhooks_send_due(now=now)
        delivery = WebhookDelivery.objects.get()
        if delivery.status != DeliveryStatus.PENDING:
            break
        now = delivery.next_attempt_at
    assert delivery.status == DeliveryStatus.FAILED and outcome["failed"] == 1
    assert delivery.response_status == 500
    assert delivery.last_attempt_at <= NOW + timedelta(hours=24)
    assert delivery.attempts == len(receiver.requests) >= 12
    assert [backoff(n) for n in (1, 2, 3, 8, 20)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(hours=2),
        timedelta(hours=2),
    ]


def test_a_delivery_can_be_resent_from_the_area_clienti(
    client, alice, bob, receiver, make_mailbox, order_for, pay
):
    webhook_endpoint_create(customer=alice, url=receiver.url, events=["order.paid"])
    mailbox = make_mailbox("studio@pec.it", "pro", activated_on=date(2026, 5, 25))
    pay(order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, mailbox.pk)))
    webhooks_send_due()
    delivery = WebhookDelivery.objects.get()
    client.force_login(alice.user)
    page = client.get("/area-clienti/webhook/").content.decode()
    assert "ordine pagato" in page and "HTTP 200" in page
    client.post(f"/area-clienti/webhook/consegne/{delivery.pk}/reinvia/")
    assert receiver.events() == ["order.paid", "order.paid"]
    first, second = (json.loads(r["body"]) for r in receiver.requests)
    assert first["id"] == second["id"]  # the same event: receivers can de-duplicate
    assert WebhookDelivery.objects.filter(resend_of=delivery).count() == 1
    client.force_login(bob.user)
    assert client.post(f"/area-clienti/webhook/consegne/{delivery.pk}/reinvia/").status_code == 404


def test_webhooks_are_registered_with_the_events_chosen(client, alice):
    client.force_login(alice.user)
    page = client.post(
        "/area-clienti/webhook/",
        {"url": "https://gestionale.example/pec", "events": ["order.paid", "mailbox.expired"]},
    ).content.decode()
    endpoint = alice.webhook_endpoints.get()
    assert endpoint.events == ["order.paid", "mailbox.expired"]
    assert endpoint.secret in page
    assert endpoint.secret not in client.get("/area-clienti/webhook/").content.decode()
    error = client.post("/area-clienti/webhook/", {"url": "ftp://x", "events": []})
    assert (
        "indirizzo http" in error.content.decode() and "almeno un evento" in error.content.decode()
    )
    client.post(f"/area-clienti/webhook/{endpoint.pk}/elimina/")
    assert not alice.webhook_endpoints.filter(active=True).exists()


def test_the_resend_of_an_event_uses_the_same_id(alice, receiver, make_mailbox, order_for, pay):
    webhook_endpoint_create(customer=alice, url=receiver.url, events=["invoice.issued"])
    mailbox = make_mailbox("studio@pec.it", "pro", activated_on=date(2026, 5, 25))
    pay(order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, mailbox.pk)))
    webhooks_send_due()
    copy = webhook_resend(delivery=WebhookDelivery.objects.get())
    assert copy.status == DeliveryStatus.DELIVERED
    assert receiver.events() == ["invoice.issued", "invoice.issued"]


def test_the_readme_receiver_accepts_a_signed_body_and_refuses_a_bad_signature(
    alice, receiver, make_mailbox, order_for, pay
):
    import re
    from pathlib import Path

    from api.webhooks import sign

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    code = re.search(r"```python\n(# A receiver in the standard library.*?)```", readme, re.S)[1]
    namespace: dict = {"__name__": "readme_receiver"}
    exec(compile(code, "README receiver", "exec"), namespace)  # noqa: S102 - our own README
    secret = "whsec_prova"
    namespace["SECRET"] = secret.encode()
    valid = namespace["valid"]
    body = b'{"id":"1","type":"order.paid"}'
    now = 1_790_000_000
    header = f"t={now},v1={sign(secret, now, body)}"
    assert valid(header, body, now + 10)
    assert not valid(header, body + b" ", now + 10)  # tampered body
    assert not valid(f"t={now},v1={sign('whsec_altro', now, body)}", body, now)  # wrong secret
    assert not valid(header, body, now + 301)  # replayed later
    assert not valid("v1=abc", body, now)  # no timestamp
