"""The transmission of invoices and credit notes to the Sistema di Interscambio (SDI).

One `SdiTransmission` per file handed to the SDI: the first is written in the transaction
that issues the document (the outbox row), a new one each time a discarded document is sent
again after a correction. The document's state is the state of its current transmission.
Every file the SDI sends back is kept as an `SdiReceipt`, applied or flagged.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class SdiFileCounter(models.Model):
    """The last progressive used in a file name; one row, taken under a row lock, committed
    before the file is sent, so a progressive is never given to two files."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="sdi_counter_single_row")]

    def __str__(self) -> str:
        return str(self.last_value)


class SdiState(models.TextChoices):
    QUEUED = "queued", "da inviare"
    SENT = "sent", "inviata, in attesa di esito"
    DELIVERED = "delivered", "consegnata"
    NOT_DELIVERED = "not_delivered", "non consegnata (valida, nell'area riservata AdE)"
    DISCARDED = "discarded", "scartata"


# The moves a receipt or the sender may make. A receipt may arrive before the sender has
# recorded its own success (it died between the two), hence QUEUED -> outcome.
SDI_TRANSITIONS: dict[str, frozenset[str]] = {
    SdiState.QUEUED: frozenset(
        {SdiState.SENT, SdiState.DELIVERED, SdiState.NOT_DELIVERED, SdiState.DISCARDED}
    ),
    SdiState.SENT: frozenset({SdiState.DELIVERED, SdiState.NOT_DELIVERED, SdiState.DISCARDED}),
    SdiState.DELIVERED: frozenset(),
    SdiState.NOT_DELIVERED: frozenset(),
    SdiState.DISCARDED: frozenset(),
}


class SdiTransmission(models.Model):
    invoice = models.ForeignKey(
        "billing.Invoice",
        on_delete=models.PROTECT,
        related_name="sdi_transmissions",
        verbose_name="documento",
    )
    state = models.CharField(
        "stato", max_length=14, choices=SdiState.choices, default=SdiState.QUEUED
    )
    # The latest transmission of the document; an earlier one stays as history.
    is_current = models.BooleanField("attuale", default=True)
    file_name = models.CharField(
        "nome file", max_length=50, unique=True, null=True, blank=True, default=None
    )
    # What this file says of the buyer: the invoice's data, or the corrected data of a resend.
    buyer = models.JSONField("intestatario trasmesso")
    xml = models.TextField("XML inviato", blank=True)
    attempts = models.PositiveSmallIntegerField("tentativi", default=0)
    last_error = models.TextField("ultimo errore", blank=True)
    channel_ref = models.CharField("riferimento del canale", max_length=300, blank=True)
    sdi_id = models.CharField("identificativo SdI", max_length=20, blank=True)
    errors = models.JSONField("errori SdI", default=list, blank=True)
    created_at = models.DateTimeField("in coda dal", auto_now_add=True)
    sent_at = models.DateTimeField("inviata il", null=True, blank=True)
    outcome_at = models.DateTimeField("esito del", null=True, blank=True)
    customer_notified_at = models.DateTimeField("cliente avvisato il", null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="reinviata da",
    )
    reason = models.CharField("motivo", max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "trasmissione allo SdI"
        verbose_name_plural = "trasmissioni allo SdI"
        indexes = [models.Index(fields=["state", "is_current"], name="sdi_state_current")]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=SdiState.values), name="sdi_transmission_state_valid"
            ),
            models.UniqueConstraint(
                fields=["invoice"], condition=Q(is_current=True), name="sdi_one_current_per_doc"
            ),
            models.CheckConstraint(
                condition=Q(state=SdiState.QUEUED) | Q(file_name__isnull=False),
                name="sdi_sent_has_file_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name or 'in coda'} ({self.get_state_display()})"


class SdiReceiptStatus(models.TextChoices):
    APPLIED = "applied", "applicata"
    FLAGGED = "flagged", "da verificare"


class SdiReceipt(models.Model):
    """A file read from the SDI's channel, kept as it came, whatever it holds."""

    transmission = models.ForeignKey(
        SdiTransmission,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="receipts",
        verbose_name="trasmissione",
    )
    name = models.CharField("file", max_length=255)
    content = models.BinaryField("contenuto")
    # The same file read twice is the same row: nothing changes the second time.
    digest = models.CharField("sha256", max_length=64, unique=True)
    kind = models.CharField("tipo", max_length=2, blank=True)
    referenced_file = models.CharField("NomeFile", max_length=50, blank=True)
    sdi_id = models.CharField("identificativo SdI", max_length=20, blank=True)
    status = models.CharField("stato", max_length=10, choices=SdiReceiptStatus.choices)
    problem = models.TextField("problema", blank=True)
    received_at = models.DateTimeField("letta il", auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "ricevuta SdI"
        verbose_name_plural = "ricevute SdI"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SdiReceiptStatus.values), name="sdi_receipt_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind or '??'} {self.name}"
