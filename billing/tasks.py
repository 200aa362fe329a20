"""Celery tasks of billing: thin, by id, idempotent."""

from celery import shared_task


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def send_order_email(self, order_id: int, kind: str) -> str:
    from billing.services.emails import order_email_send

    return order_email_send(order_id=order_id, kind=kind)
