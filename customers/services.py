"""Writes for accounts and holders."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from customers import fiscal
from customers.models import Customer, Holder


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
