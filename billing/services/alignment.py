"""Aligning expiries ("Allinea le scadenze"): the customer's mailboxes, the preview and the
order. The price is `billing.alignment` (pure); the order is an ordinary order placed by
`order_place`, one item per mailbox, fulfilled by `order_fulfil` (its expiry set to the
target with the renewal's cascade: add-ons active, an expired mailbox active again)."""

from datetime import date, timedelta

from billing.alignment import AlignedMailbox, AlignmentQuote, quote_alignment
from billing.catalogue import load_catalogue
from billing.models import ItemKind, Order
from billing.pricing import Catalogue, PricingError, Quote
from customers.models import Customer, Holder
from mailboxes.models import AddOnStatus, Mailbox, MailboxStatus
from mailboxes.terms import GRACE_DAYS

HELD = [AddOnStatus.ACTIVE, AddOnStatus.EXPIRED]
MAX_EXPIRING_DAYS = 3650


def aligned_mailbox(mailbox: Mailbox) -> AlignedMailbox:
    """What the alignment of `mailbox` is priced on: the tier and add-ons of the period
    after its current expiry (a scheduled tier change or reduction already applied)."""
    held = {}
    for item in mailbox.addons.all():
        if item.status not in HELD:
            continue
        quantity = item.quantity if item.next_quantity is None else item.next_quantity
        if quantity:
            held[item.addon.code] = quantity
    tier = mailbox.next_tier.code if mailbox.next_tier_id else mailbox.tier.code
    return AlignedMailbox(
        address=mailbox.address,
        tier=tier,
        expires_on=mailbox.expires_on,
        held=held,
        expired=mailbox.status == MailboxStatus.EXPIRED,
    )


def plan_label(catalogue: Catalogue, aligned: AlignedMailbox) -> str:
    """ "Pro + Conservazione PEC 5 GB": what the mailbox keeps for the added months."""
    parts = [catalogue.tier(aligned.tier).name]
    for code in catalogue.ordered(aligned.held):
        addon = catalogue.addon(code)
        parts.append(f"{addon.name} {addon.units(aligned.held[code])}")
    return " + ".join(parts)


def parse_target(value) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise PricingError(
            "Indica la data di allineamento nel formato AAAA-MM-GG.", field="target"
        ) from None


def alignment_item_quote(catalogue: Catalogue, mailbox: Mailbox, params: dict, *, today) -> Quote:
    """The price of one mailbox's item of an alignment order (`params["target"]`)."""
    from billing.alignment import quote_mailbox_alignment

    target = parse_target(params.get("target"))
    return quote_mailbox_alignment(catalogue, aligned_mailbox(mailbox), target=target, today=today)


def alignment_candidates(
    customer: Customer, *, today: date, expiring_within_days: int | None = None
):
    """The customer's mailboxes that can be aligned: active, or expired and still in grace,
    soonest expiry first; with `expiring_within_days`, the active ones expiring by then."""
    mailboxes = (
        Mailbox.objects.filter(customer=customer)
        .select_related("tier", "next_tier", "holder")
        .prefetch_related("addons__addon")
        .order_by("expires_on", "address")
    )
    if expiring_within_days is not None:
        if not 0 <= expiring_within_days <= MAX_EXPIRING_DAYS:
            raise PricingError(
                f"Indica un numero di giorni tra 0 e {MAX_EXPIRING_DAYS}.", field="days"
            )
        return mailboxes.filter(
            status=MailboxStatus.ACTIVE,
            expires_on__lte=today + timedelta(days=expiring_within_days),
        )
    return mailboxes.filter(
        status__in=[MailboxStatus.ACTIVE, MailboxStatus.EXPIRED],
        expires_on__gt=today - timedelta(days=GRACE_DAYS),
    )


def _selected(customer: Customer, mailbox_ids, *, today: date) -> list[Mailbox]:
    try:
        ids = [int(pk) for pk in mailbox_ids]
    except (TypeError, ValueError):
        raise PricingError("Caselle non valide.", field="mailboxes") from None
    if not ids:
        raise PricingError("Scegli almeno una casella da allineare.", field="mailboxes")
    if len(set(ids)) != len(ids):
        raise PricingError("Una casella è indicata due volte.", field="mailboxes")
    mailboxes = list(
        Mailbox.objects.filter(customer=customer, pk__in=ids)
        .select_related("tier", "next_tier")
        .prefetch_related("addons__addon")
        .order_by("expires_on", "address")
    )
    if len(mailboxes) != len(ids):
        raise PricingError("Casella non trovata.", field="mailboxes")
    for mailbox in mailboxes:
        if mailbox.status not in (MailboxStatus.ACTIVE, MailboxStatus.EXPIRED):
            raise PricingError(
                f"La casella {mailbox.address} è «{mailbox.get_status_display()}»: "
                "non si può allineare.",
                field="mailboxes",
            )
    return mailboxes


def alignment_preview(
    *, customer: Customer, mailbox_ids, target, today: date
) -> tuple[list[Mailbox], AlignmentQuote]:
    """Each selected mailbox with its months and amount, and the order's totals."""
    mailboxes = _selected(customer, mailbox_ids, today=today)
    quote = quote_alignment(
        load_catalogue(today),
        [aligned_mailbox(m) for m in mailboxes],
        target=parse_target(target),
        today=today,
    )
    return mailboxes, quote


def alignment_order_place(
    *,
    customer: Customer,
    mailbox_ids,
    target,
    payment_method: str,
    placement_key: str,
    today: date,
    billing_holder: Holder | None = None,
    actor=None,
) -> Order:
    """One order, one item (and one line) per mailbox; re-priced and re-checked by
    `order_place` under the mailboxes' row locks."""
    from billing.services.items import ItemSpec
    from billing.services.orders import order_place

    mailboxes, quote = alignment_preview(
        customer=customer, mailbox_ids=mailbox_ids, target=target, today=today
    )
    return order_place(
        customer=customer,
        items=[
            ItemSpec(ItemKind.ALIGNMENT, {"target": quote.target.isoformat()}, m.pk)
            for m in mailboxes
        ],
        payment_method=payment_method,
        placement_key=placement_key,
        today=today,
        billing_holder=billing_holder,
        actor=actor,
    )
