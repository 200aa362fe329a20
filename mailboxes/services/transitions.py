"""Status moves of a mailbox and of its add-ons, from the one transition map.

`MAILBOX_TRANSITIONS`, `ADDON_TRANSITIONS` and `ADDON_CASCADE` (mailboxes/models.py) are
the rules. `mailbox_transition` applies them to one mailbox; the set-based jobs
(mailboxes/lifecycle.py) ask `mailbox_move_check` and `addon_cascade` for the same moves
before they write their SQL, so a job cannot move a status the map does not allow.
"""

from datetime import date

from django.db import transaction

from mailboxes.models import (
    ADDON_CASCADE,
    ADDON_TRANSITIONS,
    MAILBOX_TRANSITIONS,
    EventKind,
    Mailbox,
    MailboxAddOn,
    MailboxEvent,
    MailboxStatus,
)


class TransitionError(Exception):
    """A status change the lifecycle does not allow."""


def event_record(
    *,
    mailbox: Mailbox,
    kind: str,
    actor=None,
    reason: str = "",
    mailbox_addon: MailboxAddOn | None = None,
    from_status: str = "",
    to_status: str = "",
    data: dict | None = None,
) -> MailboxEvent:
    return MailboxEvent.objects.create(
        mailbox=mailbox,
        mailbox_addon=mailbox_addon,
        kind=kind,
        actor=actor,
        reason=reason[:500],
        from_status=from_status,
        to_status=to_status,
        data=data or {},
    )


def mailbox_move_check(from_status: str, to_status: str, *, address: str = "") -> None:
    """Raise TransitionError unless the map allows a mailbox to move from -> to."""
    if to_status not in MAILBOX_TRANSITIONS[from_status]:
        subject = f"La casella {address}" if address else "Una casella"
        raise TransitionError(
            f"{subject} non può passare da «{MailboxStatus(from_status).label}» "
            f"a «{MailboxStatus(to_status).label}»."
        )


def addon_move_check(from_status: str, to_status: str, *, code: str = "") -> None:
    if to_status not in ADDON_TRANSITIONS[from_status]:
        raise TransitionError(f"{code or 'servizio'}: {from_status} -> {to_status} non è ammesso.")


def addon_cascade(to_status: str) -> tuple[list[str], str]:
    """(add-on statuses that move, their target) when a mailbox moves to `to_status`,
    each move checked against ADDON_TRANSITIONS. Sorted, for stable SQL."""
    sources, target = ADDON_CASCADE[to_status]
    for source in sources:
        addon_move_check(source, target)
    return sorted(sources), target


def addon_sources(to_status: str, among) -> list[str]:
    """Of the add-on statuses `among`, those the map lets move to `to_status`."""
    return sorted(s for s in among if to_status in ADDON_TRANSITIONS[s])


def addon_transition(item: MailboxAddOn, to_status: str, *, actor=None, reason: str = "") -> None:
    addon_move_check(item.status, to_status, code=item.addon.code)
    old = item.status
    item.status = to_status
    item.save(update_fields=["status", "updated_at"])
    event_record(
        mailbox=item.mailbox,
        mailbox_addon=item,
        kind=EventKind.ADDON_STATUS,
        from_status=old,
        to_status=to_status,
        actor=actor,
        reason=reason,
        data={"addon": item.addon.code, "quantity": item.quantity},
    )


@transaction.atomic
def mailbox_transition(
    *, mailbox: Mailbox, to_status: str, today: date, actor=None, reason: str = ""
) -> Mailbox:
    """Move one mailbox to `to_status` and its add-ons with it, or raise TransitionError.

    The row is locked first, so two writers (a job and a payment) never interleave.
    """
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    mailbox_move_check(mailbox.status, to_status, address=mailbox.address)
    old = mailbox.status
    mailbox.status = to_status
    if to_status == MailboxStatus.EXPIRED:
        mailbox.expired_on = today
    elif to_status == MailboxStatus.CANCELLED:
        mailbox.cancelled_on = today
    elif to_status == MailboxStatus.ACTIVE:
        mailbox.expired_on = None
    mailbox.save()
    event_record(
        mailbox=mailbox,
        kind=EventKind.STATUS,
        from_status=old,
        to_status=to_status,
        actor=actor,
        reason=reason,
        data={"on": today.isoformat()},
    )
    sources, target = addon_cascade(to_status)
    items = mailbox.addons.select_for_update().select_related("addon").filter(status__in=sources)
    for item in items:
        item.mailbox = mailbox
        addon_transition(item, target, actor=actor, reason=reason)
    return mailbox
