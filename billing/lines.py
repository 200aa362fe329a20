"""What an order, invoice or credit note line says about the mailbox it is for.

The address (and the holder, when the holder is not the invoiced party) is written into the
line when the order is placed, so the order page, the e-mails, the PDF and the FatturaPA
name it, and a document already issued keeps what it said."""

from __future__ import annotations

# Room kept in a 300-character description for the product's own text.
DESCRIPTION_MAX = 300


def holder_name_for_line(holder, billing_holder) -> str:
    """The mailbox holder's name when it is not the invoiced party, else ""."""
    if holder is None or billing_holder is None or holder.pk == billing_holder.pk:
        return ""
    if holder.tax_id and holder.tax_id == billing_holder.tax_id:
        return ""
    return holder.display_name


def named_description(description: str, address: str, holder_name: str = "") -> str:
    """`Casella PEC Pro, 2 anni – studio@pec.it (titolare: Bianchi S.r.l.)`."""
    if not address or address in description:
        return description[:DESCRIPTION_MAX]
    suffix = f" – {address}"
    if holder_name:
        suffix += f" (titolare: {holder_name})"
    return description[: DESCRIPTION_MAX - len(suffix)] + suffix
