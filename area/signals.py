"""Every save or delete of a row the Area Clienti shows moves its account's version (see
`pecshop.account_versions`), so the kept pages of that account are rendered again."""

from django.db.models.signals import post_delete, post_save

from billing.models import Invoice, Order
from customers.models import Customer, Holder
from mailboxes.models import Mailbox, MailboxAddOn, MailboxEvent
from pecshop.account_versions import account_changed


def _mailbox_customer_id(instance) -> int | None:
    """The account of a row that belongs to a mailbox (an add-on, an event)."""
    field = instance._meta.get_field("mailbox")
    if field.is_cached(instance):
        return instance.mailbox.customer_id
    return (
        Mailbox.objects.filter(pk=instance.mailbox_id).values_list("customer_id", flat=True).first()
    )


# A mailbox never moves to another account (the field is read-only everywhere), so its
# current customer is the only account to tell.
OWNER = {
    Mailbox: lambda mailbox: mailbox.customer_id,
    MailboxAddOn: _mailbox_customer_id,
    MailboxEvent: _mailbox_customer_id,
    Holder: lambda holder: holder.customer_id,
    Customer: lambda customer: customer.pk,
    Order: lambda order: order.customer_id,
    Invoice: lambda invoice: invoice.customer_id,
}


def _changed(sender, instance, **kwargs) -> None:
    account_changed(OWNER[sender](instance))


def connect() -> None:
    for model in OWNER:
        post_save.connect(_changed, sender=model, dispatch_uid=f"area-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"area-del-{model.__name__}")
