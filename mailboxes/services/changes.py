"""Changes to a mailbox other than purchases: the disdetta (now or at expiry), the automatic
renewal switch, the holder, a goodwill extension, the usage read from the platform and a
reminder sent again by staff. The Area Clienti, the admin and the jobs all call these.

Every function locks the mailbox, checks the rule, changes it and writes a `MailboxEvent`
(who, why) in one transaction. Messages are Italian: they are shown as they are.

`mailbox_cancel` queues the cascade check of `mailboxes.tasks` after commit, importing it
there: the tasks module imports these services.
"""

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from customers.models import Holder
from mailboxes.models import EventKind, Mailbox, MailboxStatus
from mailboxes.services.platform import PLATFORM_ACTION, provisioning_enqueue
from mailboxes.services.transitions import TransitionError, event_record, mailbox_transition
from mailboxes.terms import grace_ends_on
from outbox.services import email_enqueue
from pecshop.mail import email_build

MAX_EXTENSION_DAYS = 365
REASON_CANCEL_AT_EXPIRY = "disdetta alla scadenza"


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Indica il motivo: resta nello storico della casella."})
    return reason


def mailbox_cancel(
    *, mailbox: Mailbox, today: date, at_expiry: bool, actor=None, reason: str = ""
) -> Mailbox:
    """Disdetta by the customer or staff: now, or at the natural expiry.

    Now: the mailbox is cancelled at once and its add-ons in the same transaction (a
    handful of rows, and there must never be an active add-on on a cancelled mailbox, not
    even for the moment a queue takes); the `cancel_mailbox_cascade` task runs after
    commit as an idempotent check. At expiry: the expiry job cancels it on the day, and
    automatic renewal is switched off so that it is not renewed meanwhile.
    """
    with transaction.atomic():
        locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        if locked.status == MailboxStatus.PENDING:
            raise TransitionError(
                f"La casella {locked.address} è in attesa di pagamento: annulla l'ordine."
            )
        if locked.status == MailboxStatus.CANCELLED:
            raise TransitionError(f"La casella {locked.address} è già cancellata.")
        if at_expiry:
            if locked.status != MailboxStatus.ACTIVE:
                raise TransitionError(
                    f"La casella {locked.address} è già scaduta: si può solo disdire subito."
                )
            if not locked.cancel_at_expiry or locked.auto_renew:
                locked.cancel_at_expiry, locked.auto_renew = True, False
                locked.save(update_fields=["cancel_at_expiry", "auto_renew", "updated_at"])
                event_record(
                    mailbox=locked,
                    kind=EventKind.SETTINGS,
                    actor=actor,
                    reason=reason or REASON_CANCEL_AT_EXPIRY,
                    data={
                        "cancel_at_expiry": True,
                        "auto_renew": False,
                        "on": locked.expires_on.isoformat(),
                    },
                )
            return locked
        cancelled = mailbox_transition(
            mailbox=locked,
            to_status=MailboxStatus.CANCELLED,
            today=today,
            actor=actor,
            reason=reason or "disdetta",
        )
        provisioning_enqueue(mailbox=cancelled, action=PLATFORM_ACTION[MailboxStatus.CANCELLED])

        # A second look at the add-ons after commit; the cancellation above already did it,
        # so a broker that is down loses nothing.
        from mailboxes.tasks import cancel_mailbox_cascade
        from pecshop.celery import enqueue_on_commit

        enqueue_on_commit(cancel_mailbox_cascade, cancelled.pk)
        return cancelled


@transaction.atomic
def mailbox_staff_cancel(*, mailbox: Mailbox, today: date, actor, reason: str) -> Mailbox:
    """Terminate a mailbox in service now, on staff's decision: final, its add-ons are
    cancelled with it (`mailbox_cancel`, the same disdetta customers make), and the mail
    platform is asked to delete it. A mailbox still awaiting payment is refused: its order
    is cancelled instead."""
    reason = _require_reason(reason)
    return mailbox_cancel(mailbox=mailbox, today=today, at_expiry=False, actor=actor, reason=reason)


def mailbox_set_auto_renew(*, mailbox: Mailbox, enabled: bool, actor=None) -> Mailbox:
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        if mailbox.status not in (MailboxStatus.ACTIVE, MailboxStatus.EXPIRED):
            raise TransitionError("Il rinnovo automatico vale solo per una casella attiva.")
        if enabled and mailbox.cancel_at_expiry:
            # A disdetta is never dropped as a side effect: it is revoked on its own.
            raise TransitionError(
                "La casella ha una disdetta alla scadenza: per rinnovarla automaticamente "
                "revoca prima la disdetta."
            )
        if mailbox.auto_renew != enabled:
            mailbox.auto_renew = enabled
            mailbox.save(update_fields=["auto_renew", "updated_at"])
            event_record(
                mailbox=mailbox, kind=EventKind.SETTINGS, actor=actor, data={"auto_renew": enabled}
            )
    return mailbox


def mailbox_revoke_cancellation(*, mailbox: Mailbox, actor=None) -> Mailbox:
    """Revoca disdetta: the mailbox stays in service past its expiry again (and can then be
    renewed, by hand or automatically). Automatic renewal stays off until switched on."""
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        if mailbox.status != MailboxStatus.ACTIVE:
            raise TransitionError("Si può revocare la disdetta solo di una casella attiva.")
        if not mailbox.cancel_at_expiry:
            raise TransitionError("La casella non ha una disdetta da revocare.")
        mailbox.cancel_at_expiry = False
        mailbox.save(update_fields=["cancel_at_expiry", "updated_at"])
        event_record(
            mailbox=mailbox,
            kind=EventKind.SETTINGS,
            actor=actor,
            reason="disdetta revocata dal cliente",
            data={"cancel_at_expiry": False},
        )
    return mailbox


@transaction.atomic
def mailbox_extend(
    *,
    mailbox: Mailbox,
    actor,
    reason: str,
    days: int | None = None,
    new_expiry: date | None = None,
) -> Mailbox:
    """Move the expiry of an active mailbox later, by `days` or to `new_expiry` (a
    goodwill extension: nothing is charged). Its add-ons follow, having no dates of
    their own."""
    reason = _require_reason(reason)
    if (days is None) == (new_expiry is None):
        raise ValidationError("Indica i giorni di proroga oppure la nuova scadenza.")
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    if mailbox.status != MailboxStatus.ACTIVE:
        raise TransitionError(
            f"La casella {mailbox.address} è «{mailbox.get_status_display()}»: si proroga "
            "solo una casella attiva (una scaduta si rinnova)."
        )
    old = mailbox.expires_on
    new_expiry = new_expiry or old + timedelta(days=days)
    if new_expiry <= old:
        raise ValidationError(
            {"new_expiry": f"La nuova scadenza deve essere dopo il {old:%d/%m/%Y}."}
        )
    if (new_expiry - old).days > MAX_EXTENSION_DAYS:
        raise ValidationError(
            {"new_expiry": f"Una proroga arriva al massimo a {MAX_EXTENSION_DAYS} giorni."}
        )
    mailbox.expires_on = new_expiry
    mailbox.save(update_fields=["expires_on", "updated_at"])
    event_record(
        mailbox=mailbox,
        kind=EventKind.SETTINGS,
        actor=actor,
        reason=reason,
        data={
            "action": "expiry_extended",
            "from": old.isoformat(),
            "to": new_expiry.isoformat(),
            "days": (new_expiry - old).days,
        },
    )
    return mailbox


@transaction.atomic
def mailbox_change_holder(*, mailbox: Mailbox, holder: Holder, actor, reason: str) -> Mailbox:
    """Give a mailbox another holder of the same account (the account stays the same)."""
    reason = _require_reason(reason)
    mailbox = Mailbox.objects.select_for_update().select_related("holder").get(pk=mailbox.pk)
    if mailbox.status == MailboxStatus.CANCELLED:
        raise TransitionError(f"La casella {mailbox.address} è cancellata.")
    if holder.customer_id != mailbox.customer_id:
        raise ValidationError(
            {"holder": "Il nuovo titolare deve appartenere allo stesso account della casella."}
        )
    old = mailbox.holder
    if old.pk == holder.pk:
        raise ValidationError({"holder": f"{holder} è già il titolare di {mailbox.address}."})
    mailbox.holder = holder
    mailbox.save(update_fields=["holder", "updated_at"])
    event_record(
        mailbox=mailbox,
        kind=EventKind.HOLDER_CHANGED,
        actor=actor,
        reason=reason,
        data={
            "from": old.pk,
            "to": holder.pk,
            "from_name": old.display_name,
            "to_name": holder.display_name,
            "from_tax_id": old.tax_id,
            "to_tax_id": holder.tax_id,
        },
    )
    return mailbox


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


def mailbox_reminder_resend(*, mailbox: Mailbox, today: date, actor, reason: str) -> str:
    """Send again the expiry reminder for the mailbox's current expiry to the account's
    contact address, in the words of the automatic reminders (`emails/mailbox_reminder.txt`);
    returns the address written to. The automatic reminders are not affected: they keep
    their own once-per-expiry record."""
    reason = _require_reason(reason)
    mailbox = Mailbox.objects.select_related("customer__user", "holder", "tier").get(pk=mailbox.pk)
    if mailbox.status not in (MailboxStatus.ACTIVE, MailboxStatus.EXPIRED):
        raise TransitionError(
            f"La casella {mailbox.address} è «{mailbox.get_status_display()}»: non ha una "
            "scadenza da ricordare."
        )
    to = mailbox.customer.email
    if not to:
        raise ValidationError("L'account non ha un indirizzo e-mail.")
    expires_on = mailbox.expires_on
    before = mailbox.status == MailboxStatus.ACTIVE and today < expires_on
    context = {
        "mailbox": mailbox,
        "expires_on": expires_on,
        "before": before,
        "days_left": (expires_on - today).days,
        "days_expired": max((today - expires_on).days, 0),
        "grace_ends_on": grace_ends_on(expires_on),
        "last_renewal_day": grace_ends_on(expires_on) - timedelta(days=1),
        "auto_renew": mailbox.auto_renew,
        "site_url": settings.SITE_URL,
    }
    if before:
        subject = f"La casella PEC {mailbox.address} scade il {expires_on:%d/%m/%Y}"
    else:
        subject = (
            f"La casella PEC {mailbox.address} è scaduta: rinnovala entro il "
            f"{context['last_renewal_day']:%d/%m/%Y}"
        )
    message = email_build("mailbox_reminder", context, subject=subject, to=[to])
    with transaction.atomic():
        email_enqueue(message=message)
        event_record(
            mailbox=mailbox,
            kind=EventKind.SETTINGS,
            actor=actor,
            reason=reason,
            data={"action": "reminder_resent", "expires_on": expires_on.isoformat(), "to": to},
        )
    return to
