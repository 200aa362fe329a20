"""Calls to the mail platform: recorded in the business transaction, run after commit.

The tasks module is imported inside the functions that queue a task: `mailboxes.tasks`
imports these services (a task loads by id and calls one service), so a top-level import
would be a cycle.
"""

from datetime import timedelta
from functools import partial

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from mailboxes.models import (
    AddOnStatus,
    Mailbox,
    MailboxStatus,
    ProvisioningCall,
    ProvisioningStatus,
)

# What the mail platform is asked when a mailbox moves: expired, it receives but cannot
# send; cancelled, it is deleted.
PLATFORM_ACTION = {
    MailboxStatus.EXPIRED: ProvisioningCall.Action.SUSPEND,
    MailboxStatus.CANCELLED: ProvisioningCall.Action.DELETE,
}


def _run_later(call_id: int) -> None:
    # A broker that is down loses only the shortcut: the retry job finds the row.
    from mailboxes.tasks import run_provisioning_call
    from pecshop.celery import enqueue

    enqueue(run_provisioning_call, call_id)


def run_calls_after_commit(call_ids: list[int]) -> None:
    """One task for a batch of calls, queued when the transaction commits."""
    if not call_ids:
        return

    from mailboxes.tasks import run_provisioning_calls
    from pecshop.celery import enqueue_on_commit

    enqueue_on_commit(run_provisioning_calls, call_ids)


def provisioning_enqueue(*, mailbox: Mailbox, action: str, payload: dict | None = None):
    """Record a call for the mail platform in this transaction; run it after commit."""
    call = ProvisioningCall.objects.create(mailbox=mailbox, action=action, payload=payload or {})
    transaction.on_commit(partial(_run_later, call.pk))
    return call


def quotas_payload(mailbox: Mailbox) -> dict:
    """What the platform must know of a mailbox: its tier and the add-ons in service."""
    return {
        "tier": mailbox.tier.code,
        "addons": dict(
            mailbox.addons.filter(status=AddOnStatus.ACTIVE).values_list("addon__code", "quantity")
        ),
    }


def provisioning_run(*, call_id: int, raise_on_failure: bool = False) -> str:
    """Carry out one recorded call; a done call is never repeated, a failed one stays
    visible (status, attempts, last error) for the retry job and for staff."""
    from mailboxes.provisioning import ProvisioningError, get_backend

    with transaction.atomic():
        call = (
            ProvisioningCall.objects.select_for_update(skip_locked=True)
            .select_related("mailbox")
            .filter(pk=call_id)
            .exclude(status=ProvisioningStatus.DONE)
            .first()
        )
        if call is None:
            return "skipped"
        blocking = (
            ProvisioningCall.objects.filter(mailbox_id=call.mailbox_id, pk__lt=call.pk)
            .exclude(status=ProvisioningStatus.DONE)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if blocking is not None:
            # The platform must see a mailbox's changes in the order they were made (an
            # expiry's suspend before a renewal's resume): this one runs after the older,
            # and says so to staff.
            note = f"in attesa della chiamata {blocking}, precedente per la stessa casella"
            if call.last_error != note:
                call.last_error = note
                call.save(update_fields=["last_error"])
            return "waiting"
        call.attempts += 1
        try:
            get_backend().perform(
                action=call.action, address=call.mailbox.address, payload=call.payload
            )
        except Exception as error:  # noqa: BLE001 - any platform failure is recorded
            call.status = ProvisioningStatus.FAILED
            call.last_error = f"{type(error).__name__}: {error}"[:2000]
            call.save(update_fields=["status", "attempts", "last_error"])
            failed = True
        else:
            call.status = ProvisioningStatus.DONE
            call.done_at = timezone.now()
            call.last_error = ""
            call.save(update_fields=["status", "attempts", "last_error", "done_at"])
            failed = False
            following = (
                ProvisioningCall.objects.filter(
                    mailbox_id=call.mailbox_id, pk__gt=call.pk, status=ProvisioningStatus.PENDING
                )
                .order_by("pk")
                .values_list("pk", flat=True)
                .first()
            )
            if following is not None:
                transaction.on_commit(partial(_run_later, following))
    if failed and raise_on_failure:
        raise ProvisioningError(call.last_error)
    return "failed" if failed else "done"


def provisioning_retry_pending(*, older_than_minutes: int = 5, limit: int = 500) -> int:
    """Run again the calls that failed, or that were never run (a lost task), oldest first."""
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    not_done = [ProvisioningStatus.FAILED, ProvisioningStatus.PENDING]
    # Only the first open call of each mailbox: the ones behind it would only wait, and
    # each call done starts the next (see provisioning_run).
    older_open = ProvisioningCall.objects.filter(
        mailbox_id=OuterRef("mailbox_id"), pk__lt=OuterRef("pk"), status__in=not_done
    )
    heads = (
        ProvisioningCall.objects.filter(status__in=not_done, created_at__lt=cutoff)
        .exclude(Exists(older_open))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )
    done, tried = 0, set()
    while len(tried) < limit:
        ids = list(heads.exclude(pk__in=tried)[: limit - len(tried)])
        done_now = sum(provisioning_run(call_id=pk) == "done" for pk in ids)
        done += done_now
        tried.update(ids)
        if not done_now:  # nothing moved: what is left waits for a failing call
            break
    return done
