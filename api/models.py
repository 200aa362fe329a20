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
