"""Placing and cancelling orders."""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from addons.models import AddOn, Tier
from billing.catalogue import load_catalogue
from billing.lines import holder_name_for_line, named_description
from billing.models import (
    ORDER_TRANSITIONS,
    ItemKind,
    Order,
    OrderEvent,
    OrderItem,
    OrderLine,
    OrderStatus,
    PaymentMethod,
)
from billing.pricing import PricingError, totals
from billing.services.items import MAX_NEW_MAILBOXES, ItemSpec, item_quote, new_mailbox_address
from customers.models import Customer, Holder
from mailboxes.models import Mailbox, MailboxStatus
from mailboxes.selectors import address_unavailable_reason, mailbox_holdings
from mailboxes.services import mailbox_create, mailbox_transition


class OrderError(Exception):
    """The order cannot be placed or changed as asked. The message is for the customer."""

    def __init__(self, message: str, *, field: str | None = None, item: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.item = item


class OrderTransitionError(OrderError):
    pass


def order_event(*, order: Order, kind: str, actor=None, reason: str = "", payment=None, **data):
    return OrderEvent.objects.create(
        order=order,
        payment=payment,
        kind=kind,
        actor=actor,
        reason=reason[:500],
        from_status=data.pop("from_status", ""),
        to_status=data.pop("to_status", ""),
        data=data,
    )


def order_transition(
    *, order: Order, to_status: str, actor=None, reason: str = "", payment=None
) -> Order:
    """Apply one allowed status change to a locked order, or raise OrderTransitionError."""
    if to_status not in ORDER_TRANSITIONS[order.status]:
        raise OrderTransitionError(
            f"L'ordine {order.number} è «{order.get_status_display()}»: non può diventare "
            f"«{OrderStatus(to_status).label}»."
        )
    old = order.status
    order.status = to_status
    now = timezone.now()
    fields = ["status"]
    if to_status == OrderStatus.PAID:
        order.paid_at, order.attention_reason = now, ""
        fields += ["paid_at", "attention_reason"]
    elif to_status == OrderStatus.CANCELLED:
        order.cancelled_at = now
        fields.append("cancelled_at")
    elif to_status == OrderStatus.ATTENTION:
        order.attention_reason = reason
        fields.append("attention_reason")
    order.save(update_fields=fields)
    order_event(
        order=order,
        kind="status",
        actor=actor,
        reason=reason,
        payment=payment,
        from_status=old,
        to_status=to_status,
    )
    return order


def _lock_mailbox(customer: Customer, mailbox_id, index: int) -> Mailbox:
    mailbox = (
        Mailbox.objects.select_for_update()
        .select_related("tier")
        .filter(pk=mailbox_id, customer=customer)
        .first()
    )
    if mailbox is None:
        raise OrderError("Casella non trovata.", field="mailbox", item=index)
    return mailbox


def order_place(
    *,
    customer: Customer,
    items: list[ItemSpec],
    payment_method: str,
    placement_key: str,
    today: date,
    billing_holder: Holder | None = None,
    actor=None,
) -> Order:
    """Re-validate and price every item against the current state, reserve the new
    addresses, and write the order with its frozen lines. The same `placement_key` twice
    returns the order placed the first time."""
    existing = Order.objects.filter(customer=customer, placement_key=placement_key).first()
    if existing is not None:
        return existing
    try:
        return _place(
            customer=customer,
            items=items,
            payment_method=payment_method,
            placement_key=placement_key,
            today=today,
            billing_holder=billing_holder,
            actor=actor,
        )
    except IntegrityError:
        # Either the same form won a race with itself, or an address was taken meanwhile.
        existing = Order.objects.filter(customer=customer, placement_key=placement_key).first()
        if existing is not None:
            return existing
        for spec in items:
            if spec.kind == ItemKind.NEW_MAILBOX and address_unavailable_reason(
                new_mailbox_address(spec.params)
            ):
                raise OrderError(
                    f"{new_mailbox_address(spec.params)} è stato appena acquistato da altri: "
                    "scegline un altro.",
                    field="local_part",
                ) from None
        raise


@transaction.atomic
def _place(*, customer, items, payment_method, placement_key, today, billing_holder, actor):
    if payment_method not in PaymentMethod.values:
        raise OrderError("Scegli un metodo di pagamento.", field="payment_method")
    if not items:
        raise OrderError("Il carrello è vuoto.")
    billing_holder = billing_holder or customer.own_holder
    if billing_holder is None or billing_holder.customer_id != customer.pk:
        raise OrderError("Indica i dati di fatturazione.", field="billing_holder")
    new_count = sum(1 for spec in items if spec.kind == ItemKind.NEW_MAILBOX)
    if new_count > MAX_NEW_MAILBOXES:
        raise OrderError(f"Un ordine può contenere al massimo {MAX_NEW_MAILBOXES} nuove caselle.")

    catalogue = load_catalogue(today)
    priced = []
    seen_addresses: set[str] = set()
    seen_mailboxes: set[int] = set()
    for index, spec in enumerate(items):
        mailbox = None
        if spec.kind == ItemKind.NEW_MAILBOX:
            try:
                address = new_mailbox_address(spec.params)
            except PricingError as error:
                raise OrderError(error.message, field=error.field, item=index) from None
            if address in seen_addresses:
                raise OrderError(
                    f"{address} è nel carrello due volte.", field="local_part", item=index
                )
            seen_addresses.add(address)
            holder = Holder.objects.filter(
                pk=spec.params.get("holder_id"), customer=customer
            ).first()
            if holder is None:
                raise OrderError(f"Indica il titolare di {address}.", field="holder", item=index)
            reason = address_unavailable_reason(address, holder.tax_id)
            if reason:
                raise OrderError(f"{address}: {reason}", field="local_part", item=index)
        else:
            mailbox = _lock_mailbox(customer, spec.mailbox_id, index)
            if mailbox.pk in seen_mailboxes:
                raise OrderError(
                    f"Una sola modifica per volta sulla casella {mailbox.address}.", item=index
                )
            seen_mailboxes.add(mailbox.pk)
        try:
            quote = item_quote(catalogue, spec, today=today, mailbox=mailbox)
        except PricingError as error:
            raise OrderError(error.message, field=error.field, item=index) from None
        priced.append((spec, mailbox, quote))

    net, vat, total = totals([line for _, _, quote in priced for line in quote.lines])
    order = Order.objects.create(
        customer=customer,
        billing_holder=billing_holder,
        payment_method=payment_method,
        net=net,
        vat=vat,
        total=total,
        placed_on=today,
        placement_key=placement_key,
    )
    order.number = f"{today.year}-{order.pk:06d}"
    order.save(update_fields=["number"])

    tiers = {t.code: t for t in Tier.objects.all()}
    addons = {a.code: a for a in AddOn.objects.all()}
    position = 0
    for index, (spec, mailbox, quote) in enumerate(priced, start=1):  # numbered from 1
        params = dict(spec.params)
        if spec.kind == ItemKind.NEW_MAILBOX:
            mailbox = mailbox_create(
                address=new_mailbox_address(params),
                tier=tiers[params["tier"]],
                holder=Holder.objects.get(pk=params["holder_id"]),
                customer=customer,
                term_years=params["years"],
                addons={addons[c]: q for c, q in params.get("addons", {}).items()},
                password_hash=params.pop("password_hash", ""),
                actor=actor,
                reason=f"ordine {order.number}",
            )
        else:
            # What the price was computed on: fulfilment refuses to apply it to anything else.
            params["expires_on_at_order"] = mailbox.expires_on.isoformat()
            params["tier_at_order"] = mailbox.tier.code
            if spec.kind == ItemKind.RENEWAL:
                # What the renewal may lower or drop (at once in the grace period, at the old
                # expiry otherwise) and a withdrawal after the old expiry gives back
                # (mailboxes.services.withdrawal.mailbox_withdraw_renewal).
                params["held_at_order"] = mailbox_holdings(mailbox)
        item = OrderItem.objects.create(
            order=order, position=index, kind=spec.kind, mailbox=mailbox, params=params
        )
        lines = []
        address = mailbox.address
        holder_name = holder_name_for_line(mailbox.holder, billing_holder)
        for line in quote.lines:
            position += 1
            lines.append(
                OrderLine(
                    order=order,
                    item=item,
                    position=position,
                    kind=line.kind,
                    code=line.code,
                    description=named_description(line.description, address, holder_name),
                    mailbox_address=address,
                    holder_name=holder_name,
                    quantity=line.quantity,
                    months=line.months,
                    unit_price=line.unit_price,
                    net=line.net,
                )
            )
        OrderLine.objects.bulk_create(lines)
    order_event(order=order, kind="placed", actor=actor, to_status=order.status, total=str(total))
    _email_after_commit(order, "received")
    return order


@transaction.atomic
def order_cancel(*, order: Order, actor=None, reason: str = "", today: date) -> Order:
    """Cancel an order that still awaits payment; the addresses it reserved are freed."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise OrderTransitionError(
            "Si può annullare solo un ordine in attesa di pagamento.", field="status"
        )
    order_transition(order=order, to_status=OrderStatus.CANCELLED, actor=actor, reason=reason)
    for item in order.items.filter(kind=ItemKind.NEW_MAILBOX).select_related("mailbox"):
        if item.mailbox.status == MailboxStatus.PENDING:
            mailbox_transition(
                mailbox=item.mailbox,
                to_status=MailboxStatus.CANCELLED,
                today=today,
                actor=actor,
                reason=f"ordine {order.number} annullato",
            )
    _email_after_commit(order, "cancelled")
    return order


def _email_after_commit(order: Order, kind: str) -> None:
    """The order's e-mail goes to the outbox in this transaction; it is sent after commit."""
    from billing.services.emails import order_email_queue

    order_email_queue(order=order, kind=kind)
