"""Celery tasks of the catalogue: thin and idempotent."""

from celery import shared_task


@shared_task
def apply_price_changes() -> int:
    from django.utils import timezone

    from addons.services import price_changes_apply

    return price_changes_apply(today=timezone.localdate())
