"""django-payments tells of every status change of a gateway payment here; a confirmed one
is applied to its order in the same transaction as the confirmation (the service makes a
repeat harmless)."""

from django.dispatch import receiver
from payments import PaymentStatus
from payments.signals import status_changed


@receiver(status_changed)
def apply_confirmed_payment(sender, instance, **kwargs):
    from billing.models import Payment
    from billing.services.payments import payment_apply

    if isinstance(instance, Payment) and instance.status == PaymentStatus.CONFIRMED:
        payment_apply(payment_id=instance.pk)


def connect_catalogue_invalidation() -> None:
    """Any change to a catalogue row (addons app) invalidates the cached catalogue."""
    from django.apps import apps
    from django.db.models.signals import post_delete, post_save

    from billing.catalogue_cache import catalogue_changed

    for model in apps.get_app_config("addons").get_models():
        post_save.connect(
            catalogue_changed, sender=model, dispatch_uid=f"catalogue-{model.__name__}"
        )
        post_delete.connect(
            catalogue_changed, sender=model, dispatch_uid=f"catalogue-del-{model.__name__}"
        )
