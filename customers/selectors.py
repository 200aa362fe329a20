"""Reads of accounts and holders."""

from django.db.models import Count

from customers.models import Customer, Holder


def account_holders(customer: Customer) -> tuple[Holder | None, list[Holder]]:
    """The account's own holder and the saved others, each with `mailbox_count` and
    `deletable` (not the account's own, no mailbox; an order billed to it is still
    refused by `holder_delete`)."""
    holders = list(
        customer.holders.annotate(mailbox_count=Count("mailboxes")).order_by(
            "last_name", "first_name", "company_name", "pk"
        )
    )
    for holder in holders:
        holder.deletable = holder.pk != customer.own_holder_id and not holder.mailbox_count
    own = next((h for h in holders if h.pk == customer.own_holder_id), None)
    return own, [h for h in holders if h is not own]
