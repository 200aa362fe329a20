"""What can be bought, described as plain data, and its price against the current state.

The same `ItemSpec` is stored in a cart item and in an order item; `item_quote` prices it
with the pricing engine every time, so nothing a browser sends is ever taken as a price.
"""

from dataclasses import dataclass, field
from datetime import date

from django.conf import settings

from billing.models import ItemKind
from billing.pricing import (
    Catalogue,
    PricingError,
    Quote,
    Usage,
    quote_addon_purchase,
    quote_new_mailbox,
    quote_renewal,
    quote_upgrade,
)
from mailboxes.addresses import domain_error, local_part_error, make_address
from mailboxes.models import Mailbox, MailboxStatus
from mailboxes.selectors import mailbox_holdings

MAX_NEW_MAILBOXES = 99


@dataclass(frozen=True)
class ItemSpec:
    kind: str
    params: dict = field(default_factory=dict)
    mailbox_id: int | None = None


def _quantities(value, name: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise PricingError(f"{name}: elenco dei servizi non valido.", field=name)
    out = {}
    for code, quantity in value.items():
        if not isinstance(code, str) or isinstance(quantity, bool) or not isinstance(quantity, int):
            raise PricingError(f"{name}: quantità non valida per «{code}».", field=name)
        out[code.upper()] = quantity
    return out


def _int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PricingError(f"{name}: deve essere un numero intero.", field=name)
    return value


def new_mailbox_address(params: dict) -> str:
    """The normalised address of a new-mailbox item, or PricingError with the reason."""
    local_part, domain = params.get("local_part", ""), params.get("domain", "")
    message = local_part_error(local_part) or domain_error(domain, settings.PEC_DOMAINS)
    if message:
        raise PricingError(
            message, field="local_part" if local_part_error(local_part) else "domain"
        )
    return make_address(local_part, domain)


def item_quote(
    catalogue: Catalogue, spec: ItemSpec, *, today: date, mailbox: Mailbox | None = None
) -> Quote:
    """The price of one item now. `mailbox` is the current state of the mailbox it changes."""
    p = spec.params
    if spec.kind == ItemKind.NEW_MAILBOX:
        new_mailbox_address(p)
        return quote_new_mailbox(
            catalogue,
            tier=str(p.get("tier", "")),
            years=_int(p.get("years"), "years"),
            addons=_quantities(p.get("addons", {}), "addons"),
        )
    if mailbox is None:
        raise PricingError("Casella non trovata.", field="mailbox")
    if mailbox.status == MailboxStatus.CANCELLED:
        raise PricingError(f"La casella {mailbox.address} è cancellata.", field="mailbox")
    if mailbox.status == MailboxStatus.PENDING:
        raise PricingError(
            f"La casella {mailbox.address} è in attesa di pagamento.", field="mailbox"
        )
    held = mailbox_holdings(mailbox)
    tier = mailbox.tier.code
    if spec.kind == ItemKind.RENEWAL:
        return quote_renewal(
            catalogue,
            tier=tier,
            expires_on=mailbox.expires_on,
            today=today,
            years=_int(p.get("years"), "years"),
            held=held,
            keep=_quantities(p.get("keep", {}), "keep"),
            add=_quantities(p.get("add", {}), "add"),
            to_tier=p.get("to_tier") or None,
            usage=Usage(
                mailbox_mb=mailbox.usage_mailbox_mb,
                archive_mb=mailbox.usage_archive_mb,
                conservation_mb=mailbox.usage_conservation_mb,
            ),
            confirm_archive_loss=bool(p.get("confirm_archive_loss", False)),
        )
    if spec.kind == ItemKind.ALIGNMENT:
        from billing.services.alignment import alignment_item_quote

        return alignment_item_quote(catalogue, mailbox, p, today=today)
    if mailbox.status != MailboxStatus.ACTIVE:
        raise PricingError(
            f"La casella {mailbox.address} è scaduta: si può solo rinnovare.", field="mailbox"
        )
    if spec.kind == ItemKind.ADDON:
        return quote_addon_purchase(
            catalogue,
            tier=tier,
            expires_on=mailbox.expires_on,
            today=today,
            held=held,
            add=_quantities(p.get("add", {}), "add"),
        )
    if spec.kind == ItemKind.UPGRADE:
        return quote_upgrade(
            catalogue,
            tier=tier,
            to_tier=str(p.get("to_tier", "")),
            expires_on=mailbox.expires_on,
            today=today,
            held=held,
            add=_quantities(p.get("add", {}), "add"),
        )
    raise PricingError("Tipo di acquisto sconosciuto.", field="kind")
