"""Purchases applied to a mailbox: a new mailbox, its activation, add-ons, renewal, upgrade,
and the reduction scheduled for the next term.

Prices and limits are the pricing engine's business (billing) and are checked before these
are called; these keep the mailbox, its add-ons and its history consistent.
"""

from datetime import date

from django.contrib.auth.hashers import make_password
from django.db import transaction

from addons.models import AddOn, Tier
from customers.models import Customer, Holder
from mailboxes.models import (
    AddOnStatus,
    EventKind,
    Mailbox,
    MailboxAddOn,
    MailboxStatus,
)
from mailboxes.services.platform import provisioning_enqueue, quotas_payload
from mailboxes.services.transitions import (
    TransitionError,
    addon_transition,
    event_record,
    mailbox_transition,
)
from mailboxes.terms import MB_PER_GB, add_years, grace_ends_on


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
    password_hash: str = "",
    actor=None,
    reason: str = "",
) -> Mailbox:
    """A new mailbox awaiting payment, with its add-ons pending alongside. Its own password
    comes in clear (`password`) or already hashed (`password_hash`, kept in an order)."""
    mailbox = Mailbox(
        address=address.strip().lower(),
        tier=tier,
        holder=holder,
        customer=customer,
        term_years=term_years,
        password=make_password(password) if password else password_hash,
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
    *,
    mailbox: Mailbox,
    activated_on: date,
    auto_renew: bool = False,
    actor=None,
    reason: str = "",
) -> Mailbox:
    """Activation follows payment: in service from the payment date for the whole term,
    renewed automatically if `auto_renew` (paid with a method that can be charged again)."""
    locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    locked.activated_on = activated_on
    locked.expires_on = add_years(activated_on, locked.term_years)
    locked.auto_renew = auto_renew
    locked.save(update_fields=["activated_on", "expires_on", "auto_renew", "updated_at"])
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


def _set_quantity(item: MailboxAddOn, quantity: int, *, actor=None, reason: str = "") -> None:
    """Give a held add-on a new quantity now (0 ends it)."""
    old = item.quantity
    item.next_quantity = None
    if quantity == 0:
        item.save(update_fields=["next_quantity", "updated_at"])
        addon_transition(item, AddOnStatus.ENDED, actor=actor, reason=reason)
        return
    item.quantity = quantity
    item.save(update_fields=["quantity", "next_quantity", "updated_at"])
    if old != quantity:
        event_record(
            mailbox=item.mailbox,
            mailbox_addon=item,
            kind=EventKind.ADDON_CHANGED,
            actor=actor,
            reason=reason,
            data={"addon": item.addon.code, "from": old, "to": quantity},
        )


def _change_tier(mailbox: Mailbox, tier: Tier, *, actor=None, reason: str = "") -> None:
    old = mailbox.tier
    if old.pk == tier.pk:
        return
    mailbox.tier = tier
    mailbox.save(update_fields=["tier", "updated_at"])
    event_record(
        mailbox=mailbox,
        kind=EventKind.TIER_CHANGED,
        actor=actor,
        reason=reason,
        data={"from": old.code, "to": tier.code},
    )


@transaction.atomic
def mailbox_renew(
    *,
    mailbox: Mailbox,
    years: int,
    today: date,
    to_tier: Tier | None = None,
    keep: dict[AddOn, int] | None = None,
    add: dict[AddOn, int] | None = None,
    actor=None,
    reason: str = "",
    until: date | None = None,
) -> Mailbox:
    """Extend the term by `years` from the current expiry (never from today), or up to
    `until` (an alignment of expiries) with the same cascade.

    Before the expiry, changes of tier and lower quantities are scheduled for the day the
    running term ends; units added on the same tier start now (their rateo was paid).
    In the grace period everything applies at once and the mailbox is active again with
    the add-ons it kept.
    """
    mailbox = Mailbox.objects.select_for_update().select_related("tier").get(pk=mailbox.pk)
    keep, add = keep or {}, add or {}
    in_grace = mailbox.status == MailboxStatus.EXPIRED and today < grace_ends_on(mailbox.expires_on)
    if mailbox.status != MailboxStatus.ACTIVE and not in_grace:
        raise TransitionError(f"La casella {mailbox.address} non si può più rinnovare.")
    target = to_tier or mailbox.tier
    old_expiry = mailbox.expires_on
    held = {
        i.addon_id: i
        for i in mailbox.addons.select_for_update()
        .select_related("addon")
        .filter(status__in=[AddOnStatus.ACTIVE, AddOnStatus.EXPIRED])
    }
    # Quantities for the new term: kept (lowered or 0), then added.
    plan = {
        addon_id: item.next_quantity if item.next_quantity is not None else item.quantity
        for addon_id, item in held.items()
    }
    for addon, quantity in keep.items():
        plan[addon.pk] = quantity
    if target.pk != mailbox.tier_id:
        sold = set(target.addon_rules.filter(sold=True).values_list("addon_id", flat=True))
        for addon_id in plan:
            if addon_id not in sold and plan[addon_id]:
                plan[addon_id] = 0

    if until is not None and until <= old_expiry:
        raise TransitionError(
            f"La nuova scadenza di {mailbox.address} deve seguire il {old_expiry:%d/%m/%Y}."
        )
    mailbox.expires_on = until or add_years(old_expiry, years)
    mailbox.save(update_fields=["expires_on", "updated_at"])
    event_record(
        mailbox=mailbox,
        kind=EventKind.RENEWED,
        actor=actor,
        reason=reason,
        data={
            "years": years,
            "from": old_expiry.isoformat(),
            "to": mailbox.expires_on.isoformat(),
            "tier": target.code,
        },
    )
    same_tier = target.pk == mailbox.tier_id
    if in_grace:
        _change_tier(mailbox, target, actor=actor, reason=reason)
        for addon_id, item in held.items():
            item.mailbox = mailbox
            _set_quantity(item, plan[addon_id], actor=actor, reason=reason)
        for addon, quantity in add.items():
            addon_attach(
                mailbox=mailbox, addon=addon, quantity=quantity, actor=actor, reason=reason
            )
        mailbox.next_tier = None
        mailbox.term_changes_on = None
        mailbox.save(update_fields=["next_tier", "term_changes_on", "updated_at"])
        mailbox = mailbox_transition(
            mailbox=mailbox, to_status=MailboxStatus.ACTIVE, today=today, actor=actor, reason=reason
        )
        provisioning_enqueue(mailbox=mailbox, action="resume")  # it may send again
    else:
        changed = False
        for addon_id, item in held.items():
            wanted = plan[addon_id]
            if wanted != item.quantity:
                item.next_quantity = wanted
                item.save(update_fields=["next_quantity", "updated_at"])
                changed = True
            elif item.next_quantity is not None:
                item.next_quantity = None
                item.save(update_fields=["next_quantity", "updated_at"])
        for addon, quantity in add.items():
            if same_tier:
                addon_attach(
                    mailbox=mailbox, addon=addon, quantity=quantity, actor=actor, reason=reason
                )
                continue
            # With a tier change the new units start with the new term.
            item = held.get(addon.pk)
            if item is None:
                item = MailboxAddOn.objects.create(
                    mailbox=mailbox, addon=addon, quantity=0, status=AddOnStatus.ACTIVE
                )
            item.next_quantity = plan.get(addon.pk, item.quantity) + quantity
            item.save(update_fields=["next_quantity", "updated_at"])
            changed = True
        if not same_tier:
            mailbox.next_tier = target
            changed = True
        if changed:
            mailbox.term_changes_on = old_expiry
        mailbox.save(update_fields=["next_tier", "term_changes_on", "updated_at"])
    provisioning_enqueue(mailbox=mailbox, action="set_quotas", payload=quotas_payload(mailbox))
    return mailbox


@transaction.atomic
def mailbox_upgrade(
    *,
    mailbox: Mailbox,
    to_tier: Tier,
    today: date,
    add: dict[AddOn, int] | None = None,
    actor=None,
    reason: str = "",
) -> Mailbox:
    """Upgrade during the term; add-ons the new tier includes end with it."""
    mailbox = Mailbox.objects.select_for_update().select_related("tier").get(pk=mailbox.pk)
    if mailbox.status != MailboxStatus.ACTIVE:
        raise TransitionError(f"La casella {mailbox.address} non è attiva.")
    if to_tier.rank <= mailbox.tier.rank:
        raise TransitionError("Il passaggio a una tipologia inferiore è possibile solo al rinnovo.")
    included = set(
        to_tier.addon_rules.filter(sold=False, included_quantity__gt=0).values_list(
            "addon_id", flat=True
        )
    )
    _change_tier(mailbox, to_tier, actor=actor, reason=reason)
    for item in (
        mailbox.addons.select_for_update()
        .select_related("addon")
        .filter(status=AddOnStatus.ACTIVE, addon_id__in=included)
    ):
        item.mailbox = mailbox
        addon_transition(
            item, AddOnStatus.ENDED, actor=actor, reason="incluso nella nuova tipologia"
        )
    for addon, quantity in (add or {}).items():
        addon_attach(mailbox=mailbox, addon=addon, quantity=quantity, actor=actor, reason=reason)
    provisioning_enqueue(mailbox=mailbox, action="set_quotas", payload=quotas_payload(mailbox))
    return mailbox


@transaction.atomic
def addon_schedule_reduction(
    *, mailbox: Mailbox, addon: AddOn, quantity: int, included_gb: int, actor=None
) -> MailboxAddOn:
    """Lower a GB add-on from the next renewal on (no refund of the running term).

    Refused while the space already used would not fit the quota after the reduction
    (`included_gb` is what the tier includes of that quota): the shop never deletes
    anything, the customer must first delete messages.
    """
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    if mailbox.status != MailboxStatus.ACTIVE:
        raise TransitionError("Si può ridurre lo spazio solo di una casella attiva.")
    item = mailbox.addons.select_for_update().filter(addon=addon, status=AddOnStatus.ACTIVE).first()
    if item is None or addon.unit != "GB" or not addon.quota:
        raise TransitionError(f"La casella non ha {addon.name} da ridurre.")
    if not 0 <= quantity < item.quantity:
        raise TransitionError(
            f"Indica una quantità da 0 a {item.quantity - 1} GB (ora {item.quantity} GB)."
        )
    used_mb = getattr(mailbox, f"usage_{addon.quota}_mb")
    limit_mb = (included_gb + quantity) * MB_PER_GB
    if used_mb > limit_mb:
        missing = -(-(used_mb - limit_mb) // MB_PER_GB)
        used_gb = f"{used_mb / MB_PER_GB:.1f}".replace(".", ",")  # Italian decimal comma
        raise TransitionError(
            f"Lo spazio usato ({used_gb} GB) non entra in "
            f"{included_gb + quantity} GB: elimina almeno {missing} GB di messaggi, poi riprova. "
            "Non cancelliamo mai nulla al posto tuo."
        )
    old = item.next_quantity
    item.next_quantity = quantity
    item.save(update_fields=["next_quantity", "updated_at"])
    mailbox.term_changes_on = mailbox.term_changes_on or mailbox.expires_on
    mailbox.save(update_fields=["term_changes_on", "updated_at"])
    event_record(
        mailbox=mailbox,
        mailbox_addon=item,
        kind=EventKind.ADDON_CHANGED,
        actor=actor,
        reason="riduzione dal prossimo rinnovo",
        data={
            "addon": addon.code,
            "quantity": item.quantity,
            "next_quantity": quantity,
            "previous_next_quantity": old,
        },
    )
    return item
