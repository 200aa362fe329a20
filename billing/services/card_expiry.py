"""A saved card that expires before the next automatic renewal's charge: the customer is
told by e-mail 30 days before that charge (once per card, mailbox and expiry)."""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from billing.models import CardExpiryNotice
from billing.services.autorenew import AUTORENEW_DAYS
from billing.services.saved_cards import default_card
from mailboxes.models import Mailbox, MailboxStatus

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
                transaction.on_commit(lambda pk=notice.pk: _send_later(pk))
        except IntegrityError:
            continue  # told already
        counts["noticed"] += 1
    return counts


def _send_later(notice_id: int) -> None:
    from billing.tasks import send_card_expiry_notice

    send_card_expiry_notice.delay(notice_id)


def card_expiry_notice_send(*, notice_id: int) -> str:
    notice = CardExpiryNotice.objects.select_related("card", "mailbox__customer__user").get(
        pk=notice_id
    )
    if notice.sent_at is not None:
        return "already sent"
    mailbox = notice.mailbox
    context = {
        "card": notice.card,
        "mailbox": mailbox,
        "charge_on": mailbox.expires_on - timedelta(days=AUTORENEW_DAYS),
        "methods_url": settings.SITE_URL + reverse("area:payment_methods"),
        "site_url": settings.SITE_URL,
    }
    EmailMessage(
        subject=f"La carta del rinnovo automatico di {mailbox.address} scade prima del rinnovo",
        body=render_to_string("emails/card_expiring.txt", context),
        to=[mailbox.customer.email],
    ).send()
    CardExpiryNotice.objects.filter(pk=notice.pk, sent_at__isnull=True).update(
        sent_at=timezone.now()
    )
    return "sent"
