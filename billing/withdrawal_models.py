"""A consumer's withdrawal (recesso) from a paid order, and the refund it owes.

One row per order (the database holds it: two confirmations racing give one withdrawal).
The row is written in the transaction that undoes the order and issues the credit note;
the money goes back after commit, through the gateway that took it or, for a bank
transfer, by staff to the IBAN the customer gave.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

MONEY = {"max_digits": 12, "decimal_places": 2}


class RefundMethod(models.TextChoices):
    GATEWAY = "gateway", "sul metodo di pagamento usato"
    BANK_TRANSFER = "bank_transfer", "con bonifico all'IBAN indicato"
    NONE = "none", "nessun importo da rimborsare"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "rimborso da eseguire"
    DONE = "done", "rimborso eseguito"


class Withdrawal(models.Model):
    order = models.OneToOneField(
        "billing.Order", on_delete=models.PROTECT, related_name="withdrawal", verbose_name="ordine"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="withdrawals"
    )
    withdrawn_at = models.DateTimeField("recesso il")
    withdrawn_on = models.DateField("giorno del recesso")
    paid_net = models.DecimalField("imponibile pagato", **MONEY)
    used = models.DecimalField("valore del servizio goduto", **MONEY)
    net = models.DecimalField("imponibile rimborsato", **MONEY)
    vat = models.DecimalField("IVA rimborsata", **MONEY)
    total = models.DecimalField("totale rimborsato", **MONEY)
    # The breakdown as shown to the customer, and what the withdrawal undid.
    lines = models.JSONField("dettaglio", default=list)
    undone = models.JSONField("annullato", default=list)
    space_to_free = models.JSONField("spazio da liberare", default=list, blank=True)
    credit_note = models.ForeignKey(
        "billing.Invoice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="nota di credito",
    )
    refund_method = models.CharField("rimborso", max_length=20, choices=RefundMethod.choices)
    refund_status = models.CharField(
        "stato del rimborso",
        max_length=10,
        choices=RefundStatus.choices,
        default=RefundStatus.PENDING,
    )
    iban = models.CharField("IBAN per il rimborso", max_length=34, blank=True)
    refund_reference = models.CharField("riferimento del rimborso", max_length=100, blank=True)
    refund_error = models.TextField("ultimo errore del rimborso", blank=True)
    refunded_at = models.DateTimeField("rimborsato il", null=True, blank=True)
    refunded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="rimborso registrato da",
    )

    class Meta:
        ordering = ["-withdrawn_at", "-id"]
        verbose_name = "recesso"
        verbose_name_plural = "recessi"
        indexes = [
            models.Index(fields=["refund_status", "refund_method"], name="withdrawal_refund_todo")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(refund_method__in=RefundMethod.values),
                name="withdrawal_refund_method_valid",
            ),
            models.CheckConstraint(
                condition=Q(refund_status__in=RefundStatus.values),
                name="withdrawal_refund_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(refund_method=RefundMethod.BANK_TRANSFER) | ~Q(iban=""),
                name="withdrawal_bank_refund_has_iban",
            ),
            models.CheckConstraint(
                condition=Q(net__gte=0, vat__gte=0, total__gte=0),
                name="withdrawal_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(refund_status=RefundStatus.PENDING) | Q(refunded_at__isnull=False),
                name="withdrawal_refund_done_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"Recesso dall'ordine {self.order.number}"
