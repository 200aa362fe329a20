"""Celery tasks of billing: thin, by id, idempotent."""

from celery import shared_task


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def send_order_email(self, order_id: int, kind: str) -> str:
    from billing.services.emails import order_email_send

    return order_email_send(order_id=order_id, kind=kind)


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def send_autorenew_failed_email(self, order_id: int, day: str) -> str:
    from billing.services.autorenew import autorenew_failed_email_send

    return autorenew_failed_email_send(order_id=order_id, day=day)


def _day(today: str | None):
    from datetime import date

    from django.utils import timezone

    return date.fromisoformat(today) if today else timezone.localdate()


@shared_task
def cancel_unpaid_orders_day(today: str | None = None) -> dict:
    from billing.lifecycle import cancel_unpaid_orders

    return cancel_unpaid_orders(today=_day(today))


@shared_task
def auto_renew_day(today: str | None = None) -> dict:
    from billing.lifecycle import auto_renew

    return auto_renew(today=_day(today))


@shared_task
def run_lifecycle_day(today: str | None = None) -> list:
    """The nightly beat job: the whole day in order. Without a date, today in Europe/Rome
    (taken when the task runs, so a late or redelivered message still runs the day it is)."""
    from billing.lifecycle import run_lifecycle
    from pecshop.observability import nightly_monitor

    with nightly_monitor():
        return [(name, counts) for name, counts, _ in run_lifecycle(today=_day(today))]


# --- transmission to the SDI (billing.sdi) ------------------------------------------------


def _sdi_channel_error():
    from billing.sdi.channels import SdiChannelError

    return SdiChannelError


@shared_task(bind=True, max_retries=8)
def sdi_send_transmission(self, transmission_id: int) -> str:
    """Queued after the issuing transaction commits; a channel failure is retried with a
    growing delay (and the beat job sends whatever is still queued)."""
    from billing.sdi.services import sdi_send

    try:
        return sdi_send(transmission_id=transmission_id, raise_on_failure=True)
    except _sdi_channel_error() as error:
        raise self.retry(exc=error, countdown=min(3600, 60 * 2**self.request.retries)) from None


@shared_task
def sdi_send_pending() -> dict:
    from billing.sdi.services import sdi_send_pending as send_pending

    return send_pending()


@shared_task
def sdi_read_receipts() -> dict:
    from billing.sdi.services import sdi_receipts_read

    try:
        return sdi_receipts_read()
    except _sdi_channel_error() as error:
        # The next run (15 minutes) reads them; nothing is lost while the mailbox is away.
        return {"error": str(error)}


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def sdi_not_delivered_email(self, transmission_id: int) -> str:
    from billing.sdi.services import not_delivered_email_send

    return not_delivered_email_send(transmission_id=transmission_id)


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def refund_duplicate_payment(self, payment_id: int) -> str:
    from billing.services.payments import payment_refund_duplicate

    return payment_refund_duplicate(payment_id=payment_id)


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def send_card_expiry_notice(self, notice_id: int) -> str:
    from billing.services.card_expiry import card_expiry_notice_send

    return card_expiry_notice_send(notice_id=notice_id)


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def send_withdrawal_email(self, withdrawal_id: int) -> str:
    from billing.services.withdrawals import withdrawal_email_send

    return withdrawal_email_send(withdrawal_id=withdrawal_id)


@shared_task
def refund_withdrawal(withdrawal_id: int) -> str:
    from billing.services.withdrawals import withdrawal_refund_run

    return withdrawal_refund_run(withdrawal_id=withdrawal_id)


@shared_task
def refunds_sweep() -> dict:
    """Refunds owed to customers that no after-commit task has done yet."""
    from billing.services.payments import refunds_pending_run

    return refunds_pending_run()
