"""Drops the cached user (see `customers.backends`) whenever it or its customer changes."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save

from customers.backends import forget_cached_user
from customers.models import Customer


def _user_changed(sender, instance, **kwargs):
    forget_cached_user(instance.pk)


def _customer_changed(sender, instance, **kwargs):
    forget_cached_user(instance.user_id)


def connect() -> None:
    user_model = get_user_model()
    for signal in (post_save, post_delete):
        signal.connect(_user_changed, sender=user_model, dispatch_uid=f"user-cache-{signal}")
        signal.connect(_customer_changed, sender=Customer, dispatch_uid=f"customer-cache-{signal}")
