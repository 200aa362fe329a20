"""Writes for mailboxes: status transitions, the cascade to add-ons, and the history.

Every change writes a MailboxEvent in the same transaction. Add-ons follow their mailbox,
never the other way: there is never an active add-on on a mailbox that is not active.
"""

from datetime import date
from functools import partial

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Exists, OuterRef

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
    ProvisioningCall,
)
from mailboxes.terms import add_years, grace_ends_on


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


def _run_later(call_id: int) -> None:
    from mailboxes.tasks import run_provisioning_call

    run_provisioning_call.delay(call_id)


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


def _set_quantity(item: MailboxAddOn, quantity: int, *, actor=None, reason: str = "") -> None:
    """Give a held add-on a new quantity now (0 ends it)."""
    old = item.quantity
    item.next_quantity = None
    if quantity == 0:
        item.save(update_fields=["next_quantity", "updated_at"])
        _addon_transition(item, AddOnStatus.ENDED, actor=actor, reason=reason)
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


def mailbox_apply_term_changes(*, mailbox: Mailbox, actor=None, reason: str = "") -> Mailbox:
    """Apply what was scheduled for the next term: the tier and the add-on quantities."""
    if mailbox.next_tier_id:
        _change_tier(mailbox, mailbox.next_tier, actor=actor, reason=reason)
    items = mailbox.addons.select_related("addon").filter(
        next_quantity__isnull=False, status__in=[AddOnStatus.ACTIVE, AddOnStatus.EXPIRED]
    )
    for item in items:
        item.mailbox = mailbox
        _set_quantity(item, item.next_quantity, actor=actor, reason=reason)
    mailbox.next_tier = None
    mailbox.term_changes_on = None
    mailbox.save(update_fields=["next_tier", "term_changes_on", "updated_at"])
    return mailbox


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
        _addon_transition(
            item, AddOnStatus.ENDED, actor=actor, reason="incluso nella nuova tipologia"
        )
    for addon, quantity in (add or {}).items():
        addon_attach(mailbox=mailbox, addon=addon, quantity=quantity, actor=actor, reason=reason)
    provisioning_enqueue(mailbox=mailbox, action="set_quotas", payload=quotas_payload(mailbox))
    return mailbox


def provisioning_run(*, call_id: int, raise_on_failure: bool = False) -> str:
    """Carry out one recorded call; a done call is never repeated, a failed one stays
    visible (status, attempts, last error) for the retry job and for staff."""
    from django.utils import timezone

    from mailboxes.models import ProvisioningStatus
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
    from datetime import timedelta

    from django.utils import timezone

    from mailboxes.models import ProvisioningStatus

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


@transaction.atomic
def addon_schedule_reduction(
    *, mailbox: Mailbox, addon: AddOn, quantity: int, included_gb: int, actor=None
) -> MailboxAddOn:
    """Lower a GB add-on from the next renewal on (no refund of the running term).

    Refused while the space already used would not fit the quota after the reduction
    (`included_gb` is what the tier includes of that quota): the shop never deletes
    anything, the customer must first delete messages.
    """
    from mailboxes.terms import MB_PER_GB

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
        raise TransitionError(
            f"Lo spazio usato ({used_mb / MB_PER_GB:.1f} GB) non entra in "
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


def mailbox_set_auto_renew(*, mailbox: Mailbox, enabled: bool, actor=None) -> Mailbox:
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        if mailbox.status not in (MailboxStatus.ACTIVE, MailboxStatus.EXPIRED):
            raise TransitionError("Il rinnovo automatico vale solo per una casella attiva.")
        if mailbox.auto_renew != enabled:
            mailbox.auto_renew = enabled
            if enabled:
                mailbox.cancel_at_expiry = False
            mailbox.save(update_fields=["auto_renew", "cancel_at_expiry", "updated_at"])
            event_record(
                mailbox=mailbox, kind=EventKind.SETTINGS, actor=actor, data={"auto_renew": enabled}
            )
    return mailbox
