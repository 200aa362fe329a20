"""Celery tasks of the outbox: thin, by id, idempotent (a sent e-mail is never sent again)."""

from celery import shared_task


@shared_task
def send_email(email_id: int) -> str:
    from outbox.services import email_send

    return email_send(email_id=email_id)


@shared_task
def send_emails(email_ids: list[int]) -> dict:
    from outbox.services import emails_send

    return emails_send(email_ids=email_ids)


@shared_task
def sweep_outbox(grace_seconds: int | None = None) -> dict:
    """Beat, every minute: what the broker did not take, failures due again."""
    from datetime import timedelta

    from outbox.services import SWEEP_GRACE, outbox_sweep

    grace = SWEEP_GRACE if grace_seconds is None else timedelta(seconds=grace_seconds)
    return outbox_sweep(grace=grace)
