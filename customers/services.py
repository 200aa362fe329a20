"""Writes for accounts and holders."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from customers import fiscal
from customers.models import HOLDER_FIELDS, HOLDER_IDENTITY_FIELDS, Customer, Holder


@transaction.atomic
def customer_create(*, email: str, password: str, validate: bool = True) -> Customer:
    """A new account; the e-mail is the username. Passwords are hashed by Django."""
    User = get_user_model()
    email = User.objects.normalize_email(email).strip().lower()
    user = User(username=email, email=email)
    if validate:
        validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    return Customer.objects.create(user=user)


def holder_create(*, customer: Customer, own: bool = False, **fields) -> Holder:
    """A holder profile saved in the account; `own=True` makes it the account's own holder."""
    holder = Holder(customer=customer, **fiscal.normalize_codes(fields))
    holder.full_clean()
    with transaction.atomic():
        holder.save()
        if own:
            customer.own_holder = holder
            customer.save(update_fields=["own_holder"])
    return holder


def holder_in_use(holder: Holder) -> bool:
    """Whether a mailbox, in any status, has this holder."""
    return holder.mailboxes.exists()


def holder_update(*, holder: Holder, **fields) -> Holder:
    """Change a saved holder profile. Who the holder is (names, codes, kind) changes only
    while no mailbox has it; the address and contacts always may. Invoices already issued
    keep the data they were issued with."""
    fields = fiscal.normalize_codes(fields)
    unknown = set(fields) - set(HOLDER_FIELDS)
    if unknown:
        raise ValueError(f"not holder fields: {sorted(unknown)}")
    with transaction.atomic():
        holder = Holder.objects.select_for_update().get(pk=holder.pk)
        changed_identity = [
            name
            for name in HOLDER_IDENTITY_FIELDS
            if name in fields and fields[name] != getattr(holder, name)
        ]
        if changed_identity and holder_in_use(holder):
            raise ValidationError(
                dict.fromkeys(
                    changed_identity,
                    "Questo titolare ha già caselle PEC: nome, tipo e codici non si "
                    "cambiano. Per intestare una casella a un altro titolare usa «Cambia "
                    "titolare» nella pagina della casella.",
                )
            )
        for name, value in fields.items():
            setattr(holder, name, value)
        holder.full_clean()
        holder.save()
    return holder


def holder_delete(*, holder: Holder) -> None:
    """Remove a saved profile that nothing uses; the account's own holder stays."""
    message = "Questo titolare ha caselle o ordini e resta nell'account."
    with transaction.atomic():
        holder = Holder.objects.select_for_update().select_related("customer").get(pk=holder.pk)
        if holder.customer.own_holder_id == holder.pk:
            raise ValidationError("I dati del titolare dell'account non si eliminano.")
        if holder_in_use(holder):
            raise ValidationError(message)
        try:
            with transaction.atomic():
                holder.delete()
        except ProtectedError:  # an order is billed to it
            raise ValidationError(message) from None
