"""A saved card that expires before the next automatic renewal's charge: the customer is
told by e-mail 30 days before that charge (once per card, mailbox and expiry). The notice
row and the e-mail's outbox row are written in one transaction; the outbox sends it after
commit."""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from billing.models import CardExpiryNotice
from billing.services.autorenew import AUTORENEW_DAYS
from billing.services.saved_cards import default_card
from mailboxes.models import Mailbox, MailboxStatus
from outbox.services import email_enqueue
from pecshop.mail import email_build

logger = logging.getLogger(__name__)

NOTICE_DAYS = 30


def card_expiry_notices(*, today: date) -> dict[str, int]:
    """The daily job: notices due today (30 days or fewer before the renewal's charge)."""
    first_charge = today + timedelta(days=1)
    last_charge = today + timedelta(days=NOTICE_DAYS)
    due = (
        Mailbox.objects.filter(
            status=MailboxStatus.ACTIVE,
            auto_renew=True,
            cancel_at_expiry=False,
            expires_on__gte=first_charge + timedelta(days=AUTORENEW_DAYS),
            expires_on__lte=last_charge + timedelta(days=AUTORENEW_DAYS),
        )
        .select_related("customer__user")
        .order_by("pk")
    )
    counts = {"noticed": 0}
    for mailbox in due.iterator():
        card = default_card(mailbox.customer)
        charge_on = mailbox.expires_on - timedelta(days=AUTORENEW_DAYS)
        if card is None or card.last_valid_day >= charge_on:
            continue
        try:
            with transaction.atomic():
                notice = CardExpiryNotice.objects.create(
                    card=card, mailbox=mailbox, expires_on=mailbox.expires_on
                )
                notice.mailbox = mailbox
                notice.card = card
                card_expiry_notice_queue(notice=notice)
        except IntegrityError:
            continue  # told already
        counts["noticed"] += 1
    return counts


def card_expiry_email_render(*, notice: CardExpiryNotice) -> EmailMessage:
    mailbox = notice.mailbox
    context = {
        "card": notice.card,
        "mailbox": mailbox,
        "charge_on": mailbox.expires_on - timedelta(days=AUTORENEW_DAYS),
        "methods_url": settings.SITE_URL + reverse("area:payment_methods"),
    }
    return email_build(
        "card_expiring",
        context,
        subject=f"La carta del rinnovo automatico di {mailbox.address} scade prima del rinnovo",
        to=[mailbox.customer.email],
    )


def card_expiry_notice_queue(*, notice: CardExpiryNotice) -> bool:
    """The notice's e-mail to the outbox in the caller's transaction, once per notice
    (`sent_at`: when it was handed to the outbox). False if it was before."""
    if notice.sent_at is not None:
        return False
    email = email_enqueue(
        message=card_expiry_email_render(notice=notice), key=f"card_expiry:{notice.pk}"
    )
    notice.sent_at = timezone.now()
    CardExpiryNotice.objects.filter(pk=notice.pk).update(sent_at=notice.sent_at)
    return email is not None


def card_expiry_notice_send(*, notice_id: int) -> str:
    """For a task queued before the outbox (by id): queue the e-mail now, once."""
    with transaction.atomic():
        notice = (
            CardExpiryNotice.objects.select_for_update(of=("self",))
            .select_related("card", "mailbox__customer__user")
            .get(pk=notice_id)
        )
        queued = card_expiry_notice_queue(notice=notice)
    return "sent" if queued else "already sent"
