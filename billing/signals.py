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
