"""What staff do to a mailbox from the back office, each with its reason in the history.

Every function locks the mailbox, checks the rule, changes it and writes a `MailboxEvent`
with the staff user (`actor`) and the reason, in one transaction. Messages are Italian:
they are shown to staff as they are.
"""

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from customers.models import Holder
from mailboxes.lifecycle import mailbox_cancel
from mailboxes.models import EventKind, Mailbox, MailboxStatus
from mailboxes.services import TransitionError, event_record
from mailboxes.terms import grace_ends_on
from pecshop.mail import email_build

MAX_EXTENSION_DAYS = 365


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Indica il motivo: resta nello storico della casella."})
    return reason


@transaction.atomic
def mailbox_staff_cancel(*, mailbox: Mailbox, today: date, actor, reason: str) -> Mailbox:
    """Terminate a mailbox in service now, on staff's decision: final, its add-ons are
    cancelled with it (`mailboxes.lifecycle.mailbox_cancel`, the same disdetta customers
    make), and the mail platform is asked to delete it. A mailbox still awaiting payment is
    refused: its order is cancelled instead."""
    reason = _require_reason(reason)
    return mailbox_cancel(mailbox=mailbox, today=today, at_expiry=False, actor=actor, reason=reason)


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
    email_build("mailbox_reminder", context, subject=subject, to=[to]).send()
    event_record(
        mailbox=mailbox,
        kind=EventKind.SETTINGS,
        actor=actor,
        reason=reason,
        data={"action": "reminder_resent", "expires_on": expires_on.isoformat(), "to": to},
    )
    return to
