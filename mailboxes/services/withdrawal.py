"""Undoing what a paid order did to a mailbox, when the consumer withdraws from it.

Each function locks the mailbox, checks that it is still as the order left it (else
`TransitionError`, and nothing is changed), undoes the change with an event per step and
queues the platform call, in the caller's transaction. Nothing is ever deleted from a
mailbox: units removed may leave used space above the quota, and the caller tells the
customer how much to free.
"""

from datetime import date

from django.db import transaction

from addons.models import AddOn, Tier
from mailboxes.models import (
    LIVE_ADDON_STATUSES,
    AddOnStatus,
    EventKind,
    Mailbox,
    MailboxAddOn,
    MailboxStatus,
)
from mailboxes.services.changes import mailbox_cancel
from mailboxes.services.platform import provisioning_enqueue, quotas_payload
from mailboxes.services.purchases import _change_tier, _set_quantity, addon_attach
from mailboxes.services.transitions import (
    TransitionError,
    event_record,
    mailbox_transition,
)
from mailboxes.services.transitions import (
    addon_transition as _addon_transition,
)
from mailboxes.terms import add_years, grace_ends_on


def _locked(mailbox: Mailbox) -> Mailbox:
    return Mailbox.objects.select_for_update().select_related("tier").get(pk=mailbox.pk)


def _live_item(mailbox: Mailbox, addon: AddOn) -> MailboxAddOn | None:
    item = (
        MailboxAddOn.objects.select_for_update()
        .select_related("addon")
        .filter(mailbox=mailbox, addon=addon, status__in=LIVE_ADDON_STATUSES)
        .first()
    )
    if item is not None:
        item.mailbox = mailbox
    return item


def _remove_units(
    mailbox: Mailbox, item: MailboxAddOn, quantity: int, *, actor=None, reason: str = ""
) -> None:
    """Take `quantity` units off a held add-on; with none left it ends ("terminato")."""
    remaining = item.quantity - quantity
    if remaining <= 0:
        if item.next_quantity is not None:
            item.next_quantity = None
            item.save(update_fields=["next_quantity", "updated_at"])
        _addon_transition(item, AddOnStatus.ENDED, actor=actor, reason=reason)
        return
    old = item.quantity
    item.quantity = remaining
    if item.next_quantity is not None and item.next_quantity >= remaining:
        item.next_quantity = None  # a reduction that no longer reduces anything
    item.save(update_fields=["quantity", "next_quantity", "updated_at"])
    event_record(
        mailbox=mailbox,
        mailbox_addon=item,
        kind=EventKind.ADDON_CHANGED,
        actor=actor,
        reason=reason,
        data={"addon": item.addon.code, "from": old, "to": remaining},
    )


def _check_units(mailbox: Mailbox, units: dict[AddOn, int]) -> dict[AddOn, MailboxAddOn]:
    items = {}
    for addon, quantity in units.items():
        item = _live_item(mailbox, addon)
        if item is None or item.quantity < quantity:
            raise TransitionError(
                f"La casella {mailbox.address} non ha più le {quantity} unità di "
                f"{addon.name} dell'ordine."
            )
        items[addon] = item
    return items


@transaction.atomic
def mailbox_withdraw_new(*, mailbox: Mailbox, today: date, actor=None, reason: str) -> bool:
    """A new mailbox withdrawn: cancelled now with its add-ons and deleted on the platform
    (the disdetta's own path). False when it was already cancelled."""
    mailbox = _locked(mailbox)
    if mailbox.status == MailboxStatus.CANCELLED:
        return False
    mailbox_cancel(mailbox=mailbox, today=today, at_expiry=False, actor=actor, reason=reason)
    return True


@transaction.atomic
def mailbox_withdraw_units(
    *, mailbox: Mailbox, units: dict[AddOn, int], actor=None, reason: str
) -> Mailbox:
    """Units bought (an add-on, more GB, Multiutente users) removed again."""
    mailbox = _locked(mailbox)
    if mailbox.status == MailboxStatus.CANCELLED:
        return mailbox
    for addon, item in _check_units(mailbox, units).items():
        _remove_units(mailbox, item, units[addon], actor=actor, reason=reason)
    provisioning_enqueue(mailbox=mailbox, action="set_quotas", payload=quotas_payload(mailbox))
    return mailbox


@transaction.atomic
def mailbox_withdraw_upgrade(
    *,
    mailbox: Mailbox,
    from_tier: Tier,
    to_tier: Tier,
    restore: dict[AddOn, int],
    added: dict[AddOn, int],
    actor=None,
    reason: str,
) -> Mailbox:
    """An upgrade withdrawn: the previous tier again, the add-ons it had credited (and
    ended) held again, the units bought with it removed."""
    mailbox = _locked(mailbox)
    if mailbox.status == MailboxStatus.CANCELLED:
        return mailbox
    if mailbox.tier_id != to_tier.pk:
        raise TransitionError(
            f"La casella {mailbox.address} non è più di tipologia {to_tier.name}: "
            "è cambiata dopo l'upgrade."
        )
    for addon, item in _check_units(mailbox, added).items():
        _remove_units(mailbox, item, added[addon], actor=actor, reason=reason)
    _change_tier(mailbox, from_tier, actor=actor, reason=reason)
    for addon, quantity in restore.items():
        addon_attach(mailbox=mailbox, addon=addon, quantity=quantity, actor=actor, reason=reason)
    provisioning_enqueue(mailbox=mailbox, action="set_quotas", payload=quotas_payload(mailbox))
    return mailbox


def _restore_held(mailbox: Mailbox, held: dict[AddOn, int], *, actor, reason: str) -> None:
    """The quantities held before the renewal lowered or dropped them."""
    for addon, quantity in held.items():
        item = _live_item(mailbox, addon)
        if item is None:  # dropped by the renewal: held again
            addon_attach(
                mailbox=mailbox, addon=addon, quantity=quantity, actor=actor, reason=reason
            )
        elif item.quantity < quantity:
            _set_quantity(item, quantity, actor=actor, reason=reason)


@transaction.atomic
def mailbox_withdraw_renewal(
    *,
    mailbox: Mailbox,
    old_expiry: date,
    old_tier: Tier,
    years: int,
    added: dict[AddOn, int],
    today: date,
    held: dict[AddOn, int] | None = None,
    actor=None,
    reason: str,
) -> Mailbox:
    """A renewal withdrawn: the expiry goes back and what it scheduled for the new term
    is dropped; units it added at once (on the same tier) are removed.

    Withdrawn after the old expiry (a renewal paid in the grace period, which made the
    mailbox active again with the add-ons it kept, or one whose new term has started), the
    mailbox is expired again (or cancelled, when the grace period is over meanwhile),
    holding again what it held when the order was placed (`held`; orders placed before the
    shop recorded it leave the add-ons as the renewal left them)."""
    mailbox = _locked(mailbox)
    if mailbox.status == MailboxStatus.CANCELLED:
        return mailbox
    if mailbox.expires_on != add_years(old_expiry, years):
        raise TransitionError(
            f"La scadenza di {mailbox.address} è cambiata dopo il rinnovo "
            f"(ora {mailbox.expires_on:%d/%m/%Y})."
        )
    renewed_in_grace = old_expiry <= today
    same_tier = mailbox.tier_id == old_tier.pk and not mailbox.next_tier_id
    started_now = added if same_tier or renewed_in_grace else {}
    items = _check_units(mailbox, started_now)

    mailbox.expires_on = old_expiry
    mailbox.next_tier = None
    mailbox.term_changes_on = None
    mailbox.save(update_fields=["expires_on", "next_tier", "term_changes_on", "updated_at"])
    event_record(
        mailbox=mailbox,
        kind=EventKind.SETTINGS,
        actor=actor,
        reason=reason,
        data={
            "expires_on": {
                "from": add_years(old_expiry, years).isoformat(),
                "to": old_expiry.isoformat(),
            },
            "scheduled_changes": "dropped",
        },
    )
    for addon, item in items.items():
        _remove_units(mailbox, item, started_now[addon], actor=actor, reason=reason)
    for item in (
        mailbox.addons.select_for_update()
        .select_related("addon")
        .filter(status__in=LIVE_ADDON_STATUSES)
    ):
        item.mailbox = mailbox
        if item.quantity == 0:  # created only for the new term (a tier change)
            item.next_quantity = None
            item.save(update_fields=["next_quantity", "updated_at"])
            _addon_transition(item, AddOnStatus.ENDED, actor=actor, reason=reason)
        elif item.next_quantity is not None:
            old = item.next_quantity
            item.next_quantity = None
            item.save(update_fields=["next_quantity", "updated_at"])
            event_record(
                mailbox=mailbox,
                mailbox_addon=item,
                kind=EventKind.ADDON_CHANGED,
                actor=actor,
                reason=reason,
                data={"addon": item.addon.code, "next_quantity": None, "was": old},
            )
    if renewed_in_grace:
        _change_tier(mailbox, old_tier, actor=actor, reason=reason)
        _restore_held(mailbox, held or {}, actor=actor, reason=reason)
        if today >= grace_ends_on(old_expiry):
            mailbox_cancel(
                mailbox=mailbox, today=today, at_expiry=False, actor=actor, reason=reason
            )
            return mailbox
        if mailbox.status == MailboxStatus.ACTIVE:
            mailbox = mailbox_transition(
                mailbox=mailbox,
                to_status=MailboxStatus.EXPIRED,
                today=today,
                actor=actor,
                reason=reason,
            )
            mailbox.expired_on = old_expiry
            mailbox.save(update_fields=["expired_on", "updated_at"])
            provisioning_enqueue(mailbox=mailbox, action="suspend")
            return mailbox
    provisioning_enqueue(mailbox=mailbox, action="set_quotas", payload=quotas_payload(mailbox))
    return mailbox
