"""API tokens, idempotency keys of the API's orders, webhook endpoints and deliveries."""

from django.db import models
from django.db.models import Q


class TokenScope(models.TextChoices):
    READ = "read", "sola lettura"
    BUY = "buy", "lettura e acquisti"


class ApiToken(models.Model):
    """A customer's API token. Only its SHA-256 is stored: the token itself is shown once,
    when it is created (it has 256 bits of entropy, so a plain hash is enough)."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField("nome", max_length=100)
    prefix = models.CharField("inizio del token", max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField("permessi", max_length=4, choices=TokenScope.choices)
    expires_on = models.DateField("scade il", null=True, blank=True)
    created_at = models.DateTimeField("creato il", auto_now_add=True)
    last_used_at = models.DateTimeField("ultimo uso", null=True, blank=True)
    revoked_at = models.DateTimeField("revocato il", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "token API"
        verbose_name_plural = "token API"
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=TokenScope.values), name="apitoken_scope_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_buy(self) -> bool:
        return self.scope == TokenScope.BUY


class IdempotencyKey(models.Model):
    """An order placed through the API under the client's Idempotency-Key: the same key
    (from the same account) always answers with the same order."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="api_idempotency_keys"
    )
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    order = models.ForeignKey("billing.Order", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "chiave di idempotenza"
        verbose_name_plural = "chiavi di idempotenza"
        constraints = [
            models.UniqueConstraint(fields=["customer", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return self.key


class WebhookEventType(models.TextChoices):
    ORDER_PAID = "order.paid", "ordine pagato"
    INVOICE_ISSUED = "invoice.issued", "fattura emessa"
    MAILBOX_EXPIRING = "mailbox.expiring", "casella in scadenza (nei giorni dei promemoria)"
    MAILBOX_EXPIRED = "mailbox.expired", "casella scaduta"
    MAILBOX_CANCELLED = "mailbox.cancelled", "casella cancellata"
    USAGE_ABOVE_90 = "mailbox.usage_above_90", "spazio usato oltre il 90%"


class WebhookEndpoint(models.Model):
    """An address of the customer's that hears of the events it chose, signed with its
    own secret (kept in clear: the shop needs it to sign)."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField("indirizzo", max_length=500)
    events = models.JSONField("eventi", default=list)
    secret = models.CharField(max_length=64)
    active = models.BooleanField("attivo", default=True)
    created_at = models.DateTimeField("creato il", auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "webhook"
        verbose_name_plural = "webhook"

    def __str__(self) -> str:
        return self.url

    @property
    def event_labels(self) -> list[str]:
        labels = dict(WebhookEventType.choices)
        return [labels.get(e, e) for e in self.events]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "da consegnare"
    DELIVERED = "delivered", "consegnato"
    FAILED = "failed", "non consegnato"


class WebhookDelivery(models.Model):
    """The outbox of webhooks: one event for one endpoint, written in the transaction that
    made the event (or, for the lifecycle jobs' events, from the rows those jobs wrote),
    sent after commit and retried with backoff for 24 hours; every attempt's answer is
    kept. `event_key` makes an event reach an endpoint once; a resend is a new row."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField()
    event_key = models.CharField(max_length=120)
    event_type = models.CharField(max_length=40, choices=WebhookEventType.choices)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    resend_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="resends"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "consegna webhook"
        verbose_name_plural = "consegne webhook"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_delivery_due",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_key"],
                condition=Q(resend_of__isnull=True),
                name="webhook_event_once_per_endpoint",
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="webhook_delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(event_type__in=WebhookEventType.values),
                name="webhook_delivery_event_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.get_status_display()})"


class WebhookCursor(models.Model):
    """How far the collector has read a source of lifecycle events (by id)."""

    source = models.CharField(max_length=30, primary_key=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.source}: {self.last_id}"
