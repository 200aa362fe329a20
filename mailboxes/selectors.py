"""Reads about mailboxes."""

from mailboxes.models import AddOnStatus, Mailbox, MailboxStatus

# Add-ons that count as held for pricing: those in service, and those of an expired
# mailbox (they come back when it is renewed).
HELD_ADDON_STATUSES = [AddOnStatus.ACTIVE, AddOnStatus.EXPIRED]


def mailbox_holdings(mailbox: Mailbox) -> dict[str, int]:
    return {
        code: quantity
        for code, quantity in mailbox.addons.filter(status__in=HELD_ADDON_STATUSES).values_list(
            "addon__code", "quantity"
        )
        if quantity
    }


def address_unavailable_reason(address: str, holder_tax_id: str | None = None) -> str | None:
    """Why `address` cannot be bought (by a holder with `holder_tax_id`), or None.

    A cancelled address can be bought again only by a holder with the same codice fiscale
    or partita IVA as its last holder.
    """
    if Mailbox.objects.filter(address=address).exclude(status=MailboxStatus.CANCELLED).exists():
        return "Questo indirizzo è già in uso: scegline un altro."
    last = (
        # Only an address that was in service belongs to a holder; an unpaid reservation
        # that was cancelled leaves the address free for anyone.
        Mailbox.objects.filter(
            address=address, status=MailboxStatus.CANCELLED, activated_on__isnull=False
        )
        .select_related("holder")
        .order_by("-cancelled_on", "-id")
        .first()
    )
    if (
        last is not None
        and holder_tax_id is not None
        and holder_tax_id.upper() not in {last.holder.fiscal_code, last.holder.vat_number} - {""}
    ):
        return (
            "Questo indirizzo è stato cancellato e può essere riacquistato solo dal suo "
            "precedente titolare."
        )
    return None
