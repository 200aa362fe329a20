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

    return [(name, counts) for name, counts, _ in run_lifecycle(today=_day(today))]


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def send_withdrawal_email(self, withdrawal_id: int) -> str:
    from billing.services.withdrawals import withdrawal_email_send

    return withdrawal_email_send(withdrawal_id=withdrawal_id)


@shared_task
def refund_withdrawal(withdrawal_id: int) -> str:
    from billing.services.withdrawals import withdrawal_refund_run

    return withdrawal_refund_run(withdrawal_id=withdrawal_id)
