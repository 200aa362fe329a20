"""Carts, orders, payments and invoices.

An order is a frozen snapshot: its lines keep the unit price they were sold at, whatever
the catalogue says later. Invoices are never edited: a correction is a credit note.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from payments import PaymentStatus
from payments.models import BasePayment

from billing.withdrawal_models import Withdrawal  # noqa: F401 (a model of this app)
from pecshop.append_only import AppendOnlyModel

MONEY = {"max_digits": 12, "decimal_places": 2}


class ItemKind(models.TextChoices):
    NEW_MAILBOX = "new_mailbox", "nuova casella PEC"
    ADDON = "addon", "servizio aggiuntivo"
    RENEWAL = "renewal", "rinnovo"
    UPGRADE = "upgrade", "cambio di tipologia"
    ALIGNMENT = "alignment", "allineamento della scadenza"


class Cart(models.Model):
    """A cart kept in the database: an anonymous one is tied to the session and is merged
    into the customer's own cart at login."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, null=True, blank=True, related_name="cart"
    )
    session_key = models.CharField(max_length=40, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "carrello"
        verbose_name_plural = "carrelli"
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | Q(session_key__isnull=False),
                name="cart_has_an_owner",
            )
        ]

    def __str__(self) -> str:
        return f"Carrello {self.pk}"


class CartItem(models.Model):
    """What is being bought, never a price: prices are computed on the server every time."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=20, choices=ItemKind.choices)
    mailbox = models.ForeignKey(
        "mailboxes.Mailbox", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    params = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "articolo del carrello"
        verbose_name_plural = "articoli del carrello"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ItemKind.values), name="cartitem_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind=ItemKind.NEW_MAILBOX, mailbox__isnull=True)
                | (~Q(kind=ItemKind.NEW_MAILBOX) & Q(mailbox__isnull=False)),
                name="cartitem_mailbox_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.pk})"


class OrderStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting", "in attesa di pagamento"
    PAID = "paid", "pagato"
    CANCELLED = "cancelled", "annullato"
    ATTENTION = "attention", "da verificare"
    REFUNDED = "refunded", "rimborsato"


ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.AWAITING_PAYMENT: frozenset(
        {OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.ATTENTION}
    ),
    # A paid order that could not be applied: staff fix it and apply it, or refund it.
    OrderStatus.ATTENTION: frozenset({OrderStatus.PAID, OrderStatus.REFUNDED}),
    OrderStatus.PAID: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}


class PaymentMethod(models.TextChoices):
    CARD = "card", "carta di credito"
    PAYPAL = "paypal", "PayPal"
    BANK_TRANSFER = "bank_transfer", "bonifico bancario"


class Order(models.Model):
    number = models.CharField("numero", max_length=20, unique=True, null=True, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="orders"
    )
    billing_holder = models.ForeignKey(
        "customers.Holder",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="intestatario della fattura",
    )
    status = models.CharField(
        "stato", max_length=10, choices=OrderStatus.choices, default=OrderStatus.AWAITING_PAYMENT
    )
    payment_method = models.CharField("pagamento", max_length=20, choices=PaymentMethod.choices)
    net = models.DecimalField("imponibile", **MONEY)
    vat = models.DecimalField("IVA", **MONEY)
    total = models.DecimalField("totale", **MONEY)
    placed_on = models.DateField("data dell'ordine")
    # The checkout form's one-time key: the same form submitted twice places one order.
    placement_key = models.CharField(max_length=64, unique=True)
    attention_reason = models.TextField("da verificare perché", blank=True)
    # The number of gateway payment attempts started: attempt N's idempotency keys are
    # derived from the order number and N, so a retried call is the same charge.
    payment_attempts = models.PositiveIntegerField("tentativi di pagamento", default=0)
    # A chargeback opened at the gateway: staff look at the order.
    disputed_at = models.DateTimeField("contestato il", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField("pagato il", null=True, blank=True)
    cancelled_at = models.DateTimeField("annullato il", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "ordine"
        verbose_name_plural = "ordini"
        indexes = [models.Index(fields=["status", "created_at"], name="order_status_created")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="order_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(payment_method__in=PaymentMethod.values), name="order_method_valid"
            ),
            models.CheckConstraint(
                condition=Q(net__gte=0, vat__gte=0, total__gte=0), name="order_amounts_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Ordine {self.number or self.pk}"


class OrderItem(models.Model):
    """One thing bought, with what fulfilment needs to apply it."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="items")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=ItemKind.choices)
    mailbox = models.ForeignKey(
        "mailboxes.Mailbox",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order_items",
    )
    params = models.JSONField(default=dict)

    class Meta:
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="orderitem_position_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=ItemKind.values), name="orderitem_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.order_id}/{self.position})"


class OrderLine(models.Model):
    """A priced line as sold: description, quantity, months, unit price and net are frozen."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines")
    item = models.ForeignKey(OrderItem, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20)
    code = models.CharField(max_length=20)
    description = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField()
    months = models.PositiveSmallIntegerField()
    unit_price = models.DecimalField(**MONEY)
    net = models.DecimalField(**MONEY)
    # The mailbox the line is about, and its holder when not the invoiced party, as they
    # were when the line was written (the description names them too).
    mailbox_address = models.CharField("casella", max_length=254, blank=True)
    holder_name = models.CharField("titolare", max_length=200, blank=True)

    class Meta:
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="orderline_position_unique"),
        ]

    def __str__(self) -> str:
        return self.description


class Payment(BasePayment):
    """A payment for an order: online through django-payments, or a bank transfer
    registered by staff. It is applied to its order at most once (`applied_at`)."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    bank_reference = models.CharField("riferimento bancario", max_length=100, blank=True)
    received_on = models.DateField("data di incasso", null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    applied_at = models.DateTimeField("applicato il", null=True, blank=True)
    needs_review = models.BooleanField("da verificare", default=False)
    review_note = models.TextField("nota per l'amministrazione", blank=True)
    # Gateway payments: the order's attempt number and the key every charge-creating call
    # of this attempt carries (a call repeated after a timeout is the same charge).
    attempt = models.PositiveIntegerField("tentativo", null=True, blank=True)
    idempotency_key = models.CharField("chiave di idempotenza", max_length=80, blank=True)
    # The gateway's own object for this attempt (a Stripe Checkout Session or PaymentIntent).
    gateway_reference = models.CharField("oggetto del gateway", max_length=255, blank=True)
    save_card = models.BooleanField("salva la carta (consenso)", default=False)
    saved_card = models.ForeignKey(
        "billing.SavedCard",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name="carta salvata",
    )
    # A charge that reached us for an order already paid, refunded through the gateway.
    duplicate = models.BooleanField("addebito doppio", default=False)
    refund_reference = models.CharField("riferimento del rimborso", max_length=255, blank=True)
    refunded_at = models.DateTimeField("rimborsato il", null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "pagamento"
        verbose_name_plural = "pagamenti"
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "transaction_id"],
                condition=~Q(transaction_id=""),
                name="payment_gateway_reference_unique",
            ),
            models.UniqueConstraint(
                fields=["bank_reference"],
                condition=~Q(bank_reference=""),
                name="payment_bank_reference_unique",
            ),
            models.CheckConstraint(
                condition=Q(method__in=PaymentMethod.values), name="payment_method_valid"
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="payment_total_not_negative"),
            models.UniqueConstraint(
                fields=["order", "attempt"],
                condition=Q(attempt__isnull=False),
                name="payment_one_row_per_attempt",
            ),
        ]

    def __str__(self) -> str:
        return f"Pagamento {self.pk} ({self.get_method_display()})"

    @property
    def is_confirmed(self) -> bool:
        return self.status == PaymentStatus.CONFIRMED

    # django-payments' hooks
    def get_success_url(self) -> str:
        from django.urls import reverse

        return settings.PAYMENT_BASE_URL + reverse("billing:order_done", args=[self.order.number])

    def get_failure_url(self) -> str:
        from django.urls import reverse

        return settings.PAYMENT_BASE_URL + reverse(
            "billing:payment_failed", args=[self.order.number]
        )

    def get_purchased_items(self):
        from payments import PurchasedItem

        for line in self.order.lines.all():
            yield PurchasedItem(
                name=line.description,
                quantity=1,
                price=line.net,
                currency="EUR",
                sku=line.code,
                tax_rate=Decimal("0.22"),
            )


class OrderEvent(AppendOnlyModel):
    """Append-only history of an order and its payments."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True)
    kind = models.CharField(max_length=30)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    data = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "evento dell'ordine"
        verbose_name_plural = "eventi degli ordini"

    def __str__(self) -> str:
        from billing.event_labels import event_label

        return event_label(self.kind)

    edit_refused = "Gli eventi non si modificano: la storia è in sola aggiunta."
    delete_refused = "Gli eventi non si cancellano: la storia è in sola aggiunta."


class InvoiceSequence(models.Model):
    """The last invoice number of a year; its row lock makes the numbering gapless."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", "fattura"
    CREDIT_NOTE = "credit_note", "nota di credito"


class Invoice(AppendOnlyModel):
    """An issued invoice or credit note: numbered `year/number`, never edited or deleted.

    The buyer's data are copied in when it is issued, so later changes to the holder's
    profile never change an issued document.
    """

    kind = models.CharField(max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    year = models.PositiveSmallIntegerField("anno")
    number = models.PositiveIntegerField("numero", validators=[MinValueValidator(1)])
    issued_on = models.DateField("data")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="invoices"
    )
    credited_invoice = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    buyer = models.JSONField("intestatario")
    net = models.DecimalField("imponibile", **MONEY)
    vat_rate = models.DecimalField(
        "aliquota IVA", max_digits=5, decimal_places=2, default=Decimal("22.00")
    )
    vat = models.DecimalField("IVA", **MONEY)
    total = models.DecimalField("totale", **MONEY)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "-number"]
        verbose_name = "fattura"
        verbose_name_plural = "fatture"
        constraints = [
            models.UniqueConstraint(
                fields=["year", "number"], name="invoice_number_unique_per_year"
            ),
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(kind=InvoiceKind.INVOICE),
                name="one_invoice_per_order",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=InvoiceKind.values), name="invoice_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind=InvoiceKind.INVOICE, credited_invoice__isnull=True)
                | Q(kind=InvoiceKind.CREDIT_NOTE, credited_invoice__isnull=False),
                name="credit_note_names_its_invoice",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display().capitalize()} {self.display_number}"

    edit_refused = "Una fattura emessa non si modifica: si emette una nota di credito."
    delete_refused = "Una fattura emessa non si cancella."

    @property
    def display_number(self) -> str:
        return f"{self.year}/{self.number}"


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=20)
    description = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField()
    months = models.PositiveSmallIntegerField()
    unit_price = models.DecimalField(**MONEY)
    net = models.DecimalField(**MONEY)
    # The mailbox the line is about, and its holder when not the invoiced party, as they
    # were when the line was written (the description names them too).
    mailbox_address = models.CharField("casella", max_length=254, blank=True)
    holder_name = models.CharField("titolare", max_length=200, blank=True)

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "position"], name="invoiceline_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.description


# The documents' transmission to the Sistema di Interscambio lives in its own module.
from billing.sdi.models import (  # noqa: E402, F401
    SdiFileCounter,
    SdiReceipt,
    SdiReceiptStatus,
    SdiState,
    SdiTransmission,
)


class SavedCard(models.Model):
    """A card saved at the gateway with the customer's consent, for the automatic renewal's
    off-session charges. The shop keeps only what the customer needs to recognise it."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="saved_cards"
    )
    gateway = models.CharField(max_length=20)
    gateway_customer = models.CharField("cliente presso il gateway", max_length=255)
    gateway_method = models.CharField("metodo presso il gateway", max_length=255)
    brand = models.CharField("circuito", max_length=30)
    last4 = models.CharField("ultime 4 cifre", max_length=4)
    exp_month = models.PositiveSmallIntegerField("mese di scadenza")
    exp_year = models.PositiveSmallIntegerField("anno di scadenza")
    is_default = models.BooleanField("per i rinnovi automatici", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField("rimossa il", null=True, blank=True)

    class Meta:
        ordering = ["-is_default", "-created_at", "-id"]
        verbose_name = "carta salvata"
        verbose_name_plural = "carte salvate"
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "gateway_method"], name="savedcard_method_unique"
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_default=True, removed_at__isnull=True),
                name="savedcard_one_default",
            ),
            models.CheckConstraint(
                condition=Q(exp_month__gte=1, exp_month__lte=12), name="savedcard_month_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4}"

    @property
    def expires_label(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year}"

    @property
    def last_valid_day(self):
        """A card is valid up to the last day of its expiry month."""
        import calendar
        from datetime import date

        return date(
            self.exp_year, self.exp_month, calendar.monthrange(self.exp_year, self.exp_month)[1]
        )


class GatewayEvent(models.Model):
    """A webhook event of a gateway, recorded in the transaction that applies it: the
    unique event id makes a replayed event (or five at once) one effect."""

    gateway = models.CharField(max_length=20)
    event_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=100)
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="gateway_events"
    )
    outcome = models.CharField(max_length=40, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "evento del gateway"
        verbose_name_plural = "eventi del gateway"
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_id"], name="gatewayevent_once"),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.kind} {self.event_id}"


class CardExpiryNotice(models.Model):
    """The e-mail telling that the renewal card expires before the automatic renewal's
    charge: once per card, mailbox and expiry (the unique row is written before sending)."""

    card = models.ForeignKey(SavedCard, on_delete=models.PROTECT, related_name="expiry_notices")
    mailbox = models.ForeignKey(
        "mailboxes.Mailbox", on_delete=models.PROTECT, related_name="card_expiry_notices"
    )
    expires_on = models.DateField("scadenza della casella")
    sent_at = models.DateTimeField("inviato il", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "avviso di carta in scadenza"
        verbose_name_plural = "avvisi di carta in scadenza"
        constraints = [
            models.UniqueConstraint(
                fields=["card", "mailbox", "expires_on"], name="cardexpirynotice_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card} / {self.mailbox_id} / {self.expires_on}"
