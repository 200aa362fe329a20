"""Celery tasks of the API app: thin and idempotent."""

from celery import shared_task


@shared_task
def send_due_webhooks() -> dict:
    from api.webhooks import webhooks_send_due

    return webhooks_send_due()


@shared_task
def collect_webhooks() -> dict:
    from django.utils import timezone

    from api.webhooks import webhooks_collect, webhooks_send_due

    created = webhooks_collect(today=timezone.localdate())
    return {**created, **webhooks_send_due()}
