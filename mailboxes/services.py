"""Writes for mailboxes: status transitions, the cascade to add-ons, and the history.

Every change writes a MailboxEvent in the same transaction. Add-ons follow their mailbox,
never the other way: there is never an active add-on on a mailbox that is not active.
"""

from datetime import date

from django.contrib.auth.hashers import make_password
from django.db import transaction

from addons.models import AddOn, Tier
from customers.models import Customer, Holder
from mailboxes.models import (
    ADDON_TRANSITIONS,
    MAILBOX_TRANSITIONS,
    AddOnStatus,
    EventKind,
    Mailbox,
    MailboxAddOn,
    MailboxEvent,
    MailboxStatus,
)
from mailboxes.terms import add_years


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


def _addon_transition(item: MailboxAddOn, to_status: str, *, actor=None, reason: str = "") -> None:
    if to_status not in ADDON_TRANSITIONS[item.status]:
        raise TransitionError(f"{item.addon.code}: {item.status} -> {to_status} non è ammesso.")
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


# What happens to the add-ons when their mailbox moves: (mailbox target) -> (from, to).
_CASCADE = {
    MailboxStatus.ACTIVE: ({AddOnStatus.PENDING, AddOnStatus.EXPIRED}, AddOnStatus.ACTIVE),
    MailboxStatus.EXPIRED: ({AddOnStatus.ACTIVE}, AddOnStatus.EXPIRED),
    MailboxStatus.CANCELLED: (
        {AddOnStatus.PENDING, AddOnStatus.ACTIVE, AddOnStatus.EXPIRED},
        AddOnStatus.CANCELLED,
    ),
}


@transaction.atomic
def mailbox_transition(
    *, mailbox: Mailbox, to_status: str, today: date, actor=None, reason: str = ""
) -> Mailbox:
    """Move one mailbox to `to_status` and its add-ons with it, or raise TransitionError.

    The row is locked first, so two writers (a job and a payment) never interleave.
    """
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    if to_status not in MAILBOX_TRANSITIONS[mailbox.status]:
        raise TransitionError(
            f"La casella {mailbox.address} non può passare da «{mailbox.get_status_display()}» "
            f"a «{MailboxStatus(to_status).label}»."
        )
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
    sources, target = _CASCADE[to_status]
    items = mailbox.addons.select_for_update().select_related("addon").filter(status__in=sources)
    for item in items:
        item.mailbox = mailbox
        _addon_transition(item, target, actor=actor, reason=reason)
    return mailbox


@transaction.atomic
def mailbox_create(
    *,
    address: str,
    tier: Tier,
    holder: Holder,
    customer: Customer,
    term_years: int,
    addons: dict[AddOn, int] | None = None,
    password: str = "",
    actor=None,
    reason: str = "",
) -> Mailbox:
    """A new mailbox awaiting payment, with its add-ons pending alongside."""
    mailbox = Mailbox(
        address=address.strip().lower(),
        tier=tier,
        holder=holder,
        customer=customer,
        term_years=term_years,
        password=make_password(password) if password else "",
    )
    mailbox.full_clean()
    mailbox.save()
    event_record(
        mailbox=mailbox,
        kind=EventKind.CREATED,
        to_status=mailbox.status,
        actor=actor,
        reason=reason,
        data={"tier": tier.code, "term_years": term_years},
    )
    for addon, quantity in (addons or {}).items():
        if quantity:
            addon_attach(mailbox=mailbox, addon=addon, quantity=quantity, actor=actor)
    return mailbox


@transaction.atomic
def mailbox_activate(
    *, mailbox: Mailbox, activated_on: date, actor=None, reason: str = ""
) -> Mailbox:
    """Activation follows payment: in service from the payment date for the whole term."""
    locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    locked.activated_on = activated_on
    locked.expires_on = add_years(activated_on, locked.term_years)
    locked.save(update_fields=["activated_on", "expires_on", "updated_at"])
    return mailbox_transition(
        mailbox=locked,
        to_status=MailboxStatus.ACTIVE,
        today=activated_on,
        actor=actor,
        reason=reason,
    )


def addon_attach(
    *, mailbox: Mailbox, addon: AddOn, quantity: int, actor=None, reason: str = ""
) -> MailboxAddOn:
    """Add units of an add-on to a mailbox: a new holding, or more units of the live one.

    Its status follows the mailbox (pending, active or expired). Prices and limits are the
    pricing engine's business and are checked before this is called.
    """
    status = {
        MailboxStatus.PENDING: AddOnStatus.PENDING,
        MailboxStatus.ACTIVE: AddOnStatus.ACTIVE,
        MailboxStatus.EXPIRED: AddOnStatus.EXPIRED,
    }.get(mailbox.status)
    if status is None:
        raise TransitionError(f"La casella {mailbox.address} è cancellata.")
    with transaction.atomic():
        item = (
            MailboxAddOn.objects.select_for_update()
            .filter(mailbox=mailbox, addon=addon, status__in=[status])
            .first()
        )
        if item is None:
            item = MailboxAddOn.objects.create(
                mailbox=mailbox, addon=addon, quantity=quantity, status=status
            )
            event_record(
                mailbox=mailbox,
                mailbox_addon=item,
                kind=EventKind.ADDON_ADDED,
                to_status=status,
                actor=actor,
                reason=reason,
                data={"addon": addon.code, "quantity": quantity},
            )
        else:
            old = item.quantity
            item.quantity = old + quantity
            item.save(update_fields=["quantity", "updated_at"])
            event_record(
                mailbox=mailbox,
                mailbox_addon=item,
                kind=EventKind.ADDON_CHANGED,
                actor=actor,
                reason=reason,
                data={"addon": addon.code, "from": old, "to": item.quantity},
            )
    return item


def mailbox_set_usage(
    *, mailbox: Mailbox, mailbox_mb: int, archive_mb: int, conservation_mb: int, at, actor=None
) -> Mailbox:
    """Usage figures read from the mail platform (the shop never deletes anything)."""
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        mailbox.usage_mailbox_mb = mailbox_mb
        mailbox.usage_archive_mb = archive_mb
        mailbox.usage_conservation_mb = conservation_mb
        mailbox.usage_updated_at = at
        mailbox.save(
            update_fields=[
                "usage_mailbox_mb",
                "usage_archive_mb",
                "usage_conservation_mb",
                "usage_updated_at",
                "updated_at",
            ]
        )
        event_record(
            mailbox=mailbox,
            kind=EventKind.USAGE,
            actor=actor,
            data={
                "mailbox_mb": mailbox_mb,
                "archive_mb": archive_mb,
                "conservation_mb": conservation_mb,
            },
        )
    return mailbox
