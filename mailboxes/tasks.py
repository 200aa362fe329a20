"""Celery tasks of the mailboxes app: thin, by id, idempotent."""

from celery import shared_task

from mailboxes.provisioning import ProvisioningError


@shared_task(
    bind=True,
    autoretry_for=(ProvisioningError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=8,
)
def run_provisioning_call(self, call_id: int) -> str:
    from mailboxes.services import provisioning_run

    return provisioning_run(call_id=call_id, raise_on_failure=True)


@shared_task
def run_provisioning_calls(call_ids: list[int]) -> dict[str, int]:
    """A batch of calls recorded by a set-based job, in order; a failure stays for the
    retry job and does not stop the others."""
    from collections import Counter

    from mailboxes.services import provisioning_run

    return dict(Counter(provisioning_run(call_id=pk) for pk in call_ids))


@shared_task
def retry_failed_provisioning(older_than_minutes: int = 5) -> int:
    from mailboxes.services import provisioning_retry_pending

    return provisioning_retry_pending(older_than_minutes=older_than_minutes)


# --- the daily lifecycle jobs, by date (billing.tasks.run_lifecycle_day runs them all) ------


def _day(today: str | None):
    from datetime import date

    from django.utils import timezone

    return date.fromisoformat(today) if today else timezone.localdate()


@shared_task
def expire_mailboxes_day(today: str | None = None) -> dict:
    from mailboxes.lifecycle import expire_mailboxes

    return expire_mailboxes(today=_day(today))


@shared_task
def end_grace_day(today: str | None = None) -> dict:
    from mailboxes.lifecycle import end_grace

    return end_grace(today=_day(today))


@shared_task
def apply_term_changes_day(today: str | None = None) -> dict:
    from mailboxes.lifecycle import apply_term_changes

    return apply_term_changes(today=_day(today))


@shared_task
def reminders_day(today: str | None = None) -> dict:
    from mailboxes.lifecycle import reminders, reminders_send

    day = _day(today)
    return {**reminders(today=day), **reminders_send(today=day)}


@shared_task
def usage_alerts_day(today: str | None = None) -> dict:
    from mailboxes.lifecycle import usage_alerts, usage_alerts_send

    day = _day(today)
    return {**usage_alerts(today=day), **usage_alerts_send(today=day)}


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def cancel_mailbox_cascade(self, mailbox_id: int) -> int:
    """Queued after a disdetta commits: brings the mailbox's add-ons in line (idempotent)."""
    from mailboxes.lifecycle import mailbox_cascade

    return mailbox_cascade(mailbox_id=mailbox_id, reason="disdetta")
