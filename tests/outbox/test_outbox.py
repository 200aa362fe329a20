"""The e-mail outbox: what the render produced is stored, then sent once."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import connection
from django.utils import timezone

from outbox import attachments
from outbox.models import EmailStatus, OutboundEmail
from outbox.services import (
    MAX_ATTEMPTS,
    email_enqueue,
    email_send,
    emails_store,
    outbox_due,
    outbox_sweep,
)

pytestmark = pytest.mark.django_db


def rendered():
    message = EmailMultiAlternatives(
        subject="Ordine 2026-0001 ricevuto",
        body="Gentile cliente, testo",
        to=["alice@example.it"],
        cc=["copia@example.it"],
        reply_to=["assistenza@pecshop.example"],
        headers={"X-Order": "2026-0001"},
    )
    message.attach_alternative("<p>Gentile cliente, <b>html</b></p>", "text/html")
    message.attach("nota.txt", "una nota", "text/plain")
    return message


def test_the_rendered_message_is_stored_in_the_transaction_and_sent_after_commit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        email = email_enqueue(message=rendered())
    stored = OutboundEmail.objects.get()
    assert (stored.status, stored.to, stored.cc) == (
        EmailStatus.PENDING,
        ["alice@example.it"],
        ["copia@example.it"],
    )
    assert stored.html_body == "<p>Gentile cliente, <b>html</b></p>"
    assert mail.outbox == [] and len(callbacks) == 1

    callbacks[0]()  # the commit: the task sends it

    sent = mail.outbox[0]
    assert (sent.subject, sent.body, sent.to, sent.cc) == (
        "Ordine 2026-0001 ricevuto",
        "Gentile cliente, testo",
        ["alice@example.it"],
        ["copia@example.it"],
    )
    assert sent.alternatives[0][0] == "<p>Gentile cliente, <b>html</b></p>"
    assert sent.attachments[0][:2] == ("nota.txt", "una nota")
    assert sent.extra_headers["X-Order"] == "2026-0001"
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and email.sent_at is not None
    assert email_send(email_id=email.pk) == "skipped"  # never twice
    assert len(mail.outbox) == 1


def test_an_attachment_by_reference_is_regenerated_when_sent(django_capture_on_commit_callbacks):
    attachments.register("test.document", lambda ref: f"documento {ref}".encode())
    with django_capture_on_commit_callbacks(execute=True):
        email_enqueue(
            message=EmailMessage(subject="s", body="b", to=["a@example.it"]),
            references=[
                attachments.Reference(
                    filename="doc.pdf", mimetype="application/pdf", source="test.document", ref=7
                )
            ],
        )
    assert OutboundEmail.objects.get().attachments == [
        {"filename": "doc.pdf", "mimetype": "application/pdf", "source": "test.document", "ref": 7}
    ]
    assert mail.outbox[0].attachments[0][:2] == ("doc.pdf", b"documento 7")


def test_a_key_already_written_writes_nothing():
    assert email_enqueue(message=rendered(), key="order:1:paid") is not None
    assert email_enqueue(message=rendered(), key="order:1:paid") is None
    assert OutboundEmail.objects.count() == 1


def test_a_failed_send_is_kept_and_retried_later_until_staff_must_look(settings):
    settings.EMAIL_BACKEND = "tests.outbox.test_outbox.RefusingBackend"
    (pk,) = emails_store(messages=[rendered()])

    assert email_send(email_id=pk) == "failed"
    email = OutboundEmail.objects.get(pk=pk)
    assert email.status == EmailStatus.FAILED and "mail server refused" in email.last_error
    assert email.next_attempt_at > timezone.now()
    assert email_send(email_id=pk) == "skipped"  # not due yet
    assert outbox_sweep(now=email.next_attempt_at + timedelta(seconds=1)) == {"failed": 1}

    OutboundEmail.objects.filter(pk=pk).update(attempts=MAX_ATTEMPTS - 1)
    OutboundEmail.objects.filter(pk=pk).update(next_attempt_at=timezone.now())
    assert email_send(email_id=pk) == "failed"
    assert OutboundEmail.objects.get(pk=pk).next_attempt_at is None  # left to staff

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from outbox.services import email_retry

    assert email_retry(email=OutboundEmail.objects.get(pk=pk))
    assert email_send(email_id=pk) == "sent"


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def open(self):
        return None

    def close(self):
        return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server refused")


def test_the_sweep_leaves_the_newest_to_their_task_and_takes_the_rest():
    now = timezone.now()
    old, new = emails_store(messages=[rendered(), rendered()])
    OutboundEmail.objects.filter(pk=old).update(created_at=now - timedelta(minutes=5))
    claimed = OutboundEmail.objects.filter(pk=new)
    assert list(outbox_due(now=now).values_list("pk", flat=True)) == [old]

    assert outbox_sweep(now=now) == {"sent": 1}
    claimed.update(status=EmailStatus.SENDING, claimed_at=now - timedelta(hours=1))
    assert list(outbox_due(now=now).values_list("pk", flat=True)) == [new]  # its sender died


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_email_once():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent claims need PostgreSQL")
    ids = emails_store(messages=[rendered() for _ in range(20)])

    def send_all(order):
        try:
            return [email_send(email_id=pk) for pk in order]
        finally:
            connection.close()

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(send_all, [ids, ids[::-1], ids]))

    outcomes = [r for rs in results for r in rs]
    assert outcomes.count("sent") == 20
    assert len(mail.outbox) == 20
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
