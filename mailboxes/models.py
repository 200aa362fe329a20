"""Mailboxes (caselle PEC), the add-ons each one holds, and their append-only history."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from pecshop.append_only import AppendOnlyModel


class MailboxStatus(models.TextChoices):
    PENDING = "pending", "in attesa di pagamento"
    ACTIVE = "active", "attiva"
    EXPIRED = "expired", "scaduta"
    CANCELLED = "cancelled", "cancellata"


# The only moves a mailbox can make. mailboxes.services.transitions applies them to one
# mailbox, and the set-based jobs (mailboxes.lifecycle) take their moves from here too.
MAILBOX_TRANSITIONS: dict[str, frozenset[str]] = {
    MailboxStatus.PENDING: frozenset({MailboxStatus.ACTIVE, MailboxStatus.CANCELLED}),
    MailboxStatus.ACTIVE: frozenset({MailboxStatus.EXPIRED, MailboxStatus.CANCELLED}),
    MailboxStatus.EXPIRED: frozenset({MailboxStatus.ACTIVE, MailboxStatus.CANCELLED}),
    MailboxStatus.CANCELLED: frozenset(),
}


class AddOnStatus(models.TextChoices):
    PENDING = "pending", "in attesa di pagamento"
    ACTIVE = "active", "attivo"
    EXPIRED = "expired", "scaduto"
    CANCELLED = "cancelled", "cancellato"
    ENDED = "ended", "terminato"  # dropped at a renewal or included by a new tier


ADDON_TRANSITIONS: dict[str, frozenset[str]] = {
    AddOnStatus.PENDING: frozenset({AddOnStatus.ACTIVE, AddOnStatus.CANCELLED}),
    AddOnStatus.ACTIVE: frozenset({AddOnStatus.EXPIRED, AddOnStatus.CANCELLED, AddOnStatus.ENDED}),
    AddOnStatus.EXPIRED: frozenset({AddOnStatus.ACTIVE, AddOnStatus.CANCELLED, AddOnStatus.ENDED}),
    AddOnStatus.CANCELLED: frozenset(),
    AddOnStatus.ENDED: frozenset(),
}

# What the add-ons of a mailbox do when it moves: mailbox target -> (the add-on statuses that
# move with it, their target). Each of those add-on moves is one of ADDON_TRANSITIONS.
ADDON_CASCADE: dict[str, tuple[frozenset[str], str]] = {
    MailboxStatus.ACTIVE: (
        frozenset({AddOnStatus.PENDING, AddOnStatus.EXPIRED}),
        AddOnStatus.ACTIVE,
    ),
    MailboxStatus.EXPIRED: (frozenset({AddOnStatus.ACTIVE}), AddOnStatus.EXPIRED),
    MailboxStatus.CANCELLED: (
        frozenset({AddOnStatus.PENDING, AddOnStatus.ACTIVE, AddOnStatus.EXPIRED}),
        AddOnStatus.CANCELLED,
    ),
}

# Statuses in which an address or an add-on is still held (not yet given up for good).
LIVE_MAILBOX_STATUSES = [MailboxStatus.PENDING, MailboxStatus.ACTIVE, MailboxStatus.EXPIRED]
LIVE_ADDON_STATUSES = [AddOnStatus.PENDING, AddOnStatus.ACTIVE, AddOnStatus.EXPIRED]


class Mailbox(models.Model):
    address = models.CharField("indirizzo", max_length=254)
    tier = models.ForeignKey(
        "addons.Tier", on_delete=models.PROTECT, related_name="mailboxes", verbose_name="tipologia"
    )
    holder = models.ForeignKey(
        "customers.Holder",
        on_delete=models.PROTECT,
        related_name="mailboxes",
        verbose_name="titolare",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="mailboxes",
        verbose_name="account",
    )
    status = models.CharField(
        "stato", max_length=10, choices=MailboxStatus.choices, default=MailboxStatus.PENDING
    )
    term_years = models.PositiveSmallIntegerField(
        "durata (anni)", validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    activated_on = models.DateField("attivata il", null=True, blank=True)
    expires_on = models.DateField("scadenza", null=True, blank=True)
    expired_on = models.DateField("scaduta il", null=True, blank=True)
    cancelled_on = models.DateField("cancellata il", null=True, blank=True)
    # Changes bought with an early renewal take effect when the running term ends.
    next_tier = models.ForeignKey(
        "addons.Tier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="tipologia dal prossimo periodo",
    )
    term_changes_on = models.DateField("modifiche programmate dal", null=True, blank=True)
    auto_renew = models.BooleanField("rinnovo automatico", default=False)
    cancel_at_expiry = models.BooleanField("disdetta alla scadenza", default=False)
    usage_mailbox_mb = models.PositiveIntegerField("spazio casella usato (MB)", default=0)
    usage_archive_mb = models.PositiveIntegerField("archivio di sicurezza usato (MB)", default=0)
    usage_conservation_mb = models.PositiveIntegerField("conservazione usata (MB)", default=0)
    usage_updated_at = models.DateTimeField("utilizzo aggiornato il", null=True, blank=True)
    # Django password hash for entering the Area Clienti with the mailbox's own credentials.
    password = models.CharField("password della casella", max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["address"]
        verbose_name = "casella PEC"
        verbose_name_plural = "caselle PEC"
        indexes = [
            models.Index(fields=["status", "expires_on"], name="mailbox_status_expiry"),
            models.Index(fields=["customer", "address"], name="mailbox_customer_address"),
            models.Index(fields=["address"], name="mailbox_address"),
            # The daily job looks for the few mailboxes with changes due; most have none.
            models.Index(
                fields=["term_changes_on"],
                condition=Q(term_changes_on__isnull=False),
                name="mailbox_term_changes_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=MailboxStatus.values), name="mailbox_status_valid"
            ),
            models.UniqueConstraint(
                fields=["address"],
                condition=~Q(status=MailboxStatus.CANCELLED),
                name="one_live_mailbox_per_address",
            ),
            models.CheckConstraint(
                condition=Q(term_years__gte=1, term_years__lte=5), name="mailbox_term_1_to_5_years"
            ),
            models.CheckConstraint(
                condition=Q(status=MailboxStatus.PENDING)
                | Q(status=MailboxStatus.CANCELLED)
                | Q(activated_on__isnull=False, expires_on__isnull=False),
                name="mailbox_in_service_has_dates",
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True)
                | Q(activated_on__isnull=True)
                | Q(expires_on__gt=F("activated_on")),
                name="mailbox_expires_after_activation",
            ),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def local_part(self) -> str:
        return self.address.partition("@")[0]

    @property
    def domain(self) -> str:
        return self.address.partition("@")[2]


class MailboxAddOn(models.Model):
    """An add-on held by a mailbox. It has no dates of its own: it follows the mailbox."""

    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.PROTECT, related_name="addons", verbose_name="casella"
    )
    addon = models.ForeignKey(
        "addons.AddOn", on_delete=models.PROTECT, related_name="+", verbose_name="servizio"
    )
    quantity = models.PositiveIntegerField("quantità")
    next_quantity = models.PositiveIntegerField(
        "quantità dal prossimo rinnovo",
        null=True,
        blank=True,
        help_text="Quantità programmata per il prossimo periodo (0: il servizio termina).",
    )
    status = models.CharField(
        "stato", max_length=10, choices=AddOnStatus.choices, default=AddOnStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["mailbox", "addon__position"]
        verbose_name = "servizio della casella"
        verbose_name_plural = "servizi della casella"
        indexes = [models.Index(fields=["mailbox", "status"], name="mailboxaddon_mailbox_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AddOnStatus.values), name="mailboxaddon_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="mailboxaddon_quantity_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(next_quantity__isnull=True) | ~Q(next_quantity=F("quantity")),
                name="mailboxaddon_next_quantity_is_a_change",
            ),
            models.UniqueConstraint(
                fields=["mailbox", "addon"],
                condition=Q(status__in=LIVE_ADDON_STATUSES),
                name="one_live_addon_per_mailbox",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.addon.code} x{self.quantity} su {self.mailbox_id}"


class EventKind(models.TextChoices):
    CREATED = "created", "creata"
    STATUS = "status", "cambio di stato"
    ADDON_ADDED = "addon_added", "servizio aggiunto"
    ADDON_CHANGED = "addon_changed", "servizio modificato"
    ADDON_STATUS = "addon_status", "cambio di stato del servizio"
    RENEWED = "renewed", "rinnovata"
    TIER_CHANGED = "tier_changed", "tipologia cambiata"
    HOLDER_CHANGED = "holder_changed", "titolare cambiato"
    USAGE = "usage", "utilizzo aggiornato"
    SETTINGS = "settings", "impostazioni"


class MailboxEvent(AppendOnlyModel):
    """Append-only history of a mailbox and its add-ons: who, when, what and why."""

    Kind = EventKind

    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="events")
    mailbox_addon = models.ForeignKey(
        MailboxAddOn, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    kind = models.CharField("tipo", max_length=20, choices=EventKind.choices)
    from_status = models.CharField("da", max_length=10, blank=True)
    to_status = models.CharField("a", max_length=10, blank=True)
    data = models.JSONField("dettagli", default=dict, blank=True)
    reason = models.CharField("motivo", max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="eseguito da",
    )
    created_at = models.DateTimeField("quando", auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "evento"
        verbose_name_plural = "eventi"
        indexes = [models.Index(fields=["mailbox", "-created_at"], name="event_mailbox_recent")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EventKind.values), name="event_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.mailbox_id} {self.created_at:%Y-%m-%d}"

    edit_refused = "Gli eventi non si modificano: la storia è in sola aggiunta."
    delete_refused = "Gli eventi non si cancellano: la storia è in sola aggiunta."

    @property
    def to_status_label(self) -> str:
        """The status reached, in Italian (an add-on's or the mailbox's)."""
        choices = AddOnStatus if self.mailbox_addon_id else MailboxStatus
        return dict(choices.choices).get(self.to_status, self.to_status)


class ProvisioningStatus(models.TextChoices):
    PENDING = "pending", "da eseguire"
    DONE = "done", "eseguita"
    FAILED = "failed", "fallita"


class ProvisioningCall(models.Model):
    """A call to the mail platform (create a mailbox, change a quota...), written in the
    same transaction as the change it follows and carried out after commit by a task.
    A failed call stays visible and is retried; none is silently lost."""

    class Action(models.TextChoices):
        CREATE = "create", "crea casella"
        SET_QUOTAS = "set_quotas", "aggiorna quote e servizi"
        SUSPEND = "suspend", "sospendi invio"
        RESUME = "resume", "riattiva"
        DELETE = "delete", "elimina casella"

    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.PROTECT, related_name="provisioning_calls"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=ProvisioningStatus.choices, default=ProvisioningStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "chiamata alla piattaforma di posta"
        verbose_name_plural = "chiamate alla piattaforma di posta"
        indexes = [models.Index(fields=["status", "created_at"], name="provisioning_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ProvisioningStatus.values), name="provisioning_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.mailbox_id} ({self.get_status_display()})"


class ReminderKind(models.TextChoices):
    """The renewal reminders, named by their day relative to the expiry."""

    BEFORE_90 = "before_90", "90 giorni alla scadenza"
    BEFORE_60 = "before_60", "60 giorni alla scadenza"
    BEFORE_30 = "before_30", "30 giorni alla scadenza"
    BEFORE_15 = "before_15", "15 giorni alla scadenza"
    BEFORE_7 = "before_7", "7 giorni alla scadenza"
    BEFORE_1 = "before_1", "1 giorno alla scadenza"
    GRACE_0 = "grace_0", "scaduta oggi"
    GRACE_30 = "grace_30", "scaduta da 30 giorni"
    GRACE_60 = "grace_60", "scaduta da 60 giorni"
    GRACE_83 = "grace_83", "7 giorni alla cancellazione"
    GRACE_89 = "grace_89", "ultimo giorno per rinnovare"


class ReminderSent(models.Model):
    """One renewal reminder of one mailbox for one expiry date.

    The row is written by the daily job before the e-mail goes out (`sent_at` is empty until
    then); the unique constraint is what makes a second run of the day send nothing, and a
    renewal moves the expiry date, so reminders of the old date are never sent again.
    """

    Kind = ReminderKind

    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.PROTECT, related_name="reminders", verbose_name="casella"
    )
    expires_on = models.DateField("scadenza")
    kind = models.CharField("promemoria", max_length=10, choices=ReminderKind.choices)
    due_on = models.DateField("del giorno")
    sent_at = models.DateTimeField("inviato il", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-due_on", "-id"]
        verbose_name = "promemoria di scadenza"
        verbose_name_plural = "promemoria di scadenza"
        indexes = [
            # The sender walks the unsent ones in id order.
            models.Index(fields=["id"], condition=Q(sent_at__isnull=True), name="reminder_unsent"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "expires_on", "kind"], name="one_reminder_per_expiry_and_kind"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ReminderKind.values), name="reminder_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.mailbox_id} ({self.expires_on})"


class UsageQuota(models.TextChoices):
    MAILBOX = "mailbox", "casella"
    ARCHIVE = "archive", "archivio di sicurezza"
    CONSERVATION = "conservation", "conservazione"


USAGE_ALERT_LEVELS = (70, 90)


class UsageAlert(models.Model):
    """The last usage level (0, 70 or 90 percent) a customer was alerted of, per quota.

    The daily job raises `level` when the usage crosses a threshold upwards (and owes an
    e-mail: `email_pending`) and lowers it when the usage drops, so the next crossing is
    alerted again; staying above a threshold alerts once.
    """

    Quota = UsageQuota

    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.PROTECT, related_name="usage_alerts", verbose_name="casella"
    )
    quota = models.CharField("spazio", max_length=12, choices=UsageQuota.choices)
    level = models.PositiveSmallIntegerField("soglia (%)", default=0)
    used_mb = models.PositiveIntegerField("usati (MB)", default=0)
    quota_gb = models.PositiveIntegerField("disponibili (GB)", default=0)
    changed_on = models.DateField("cambiata il")
    email_pending = models.BooleanField("avviso da inviare", default=False)
    emailed_at = models.DateTimeField("avviso inviato il", null=True, blank=True)

    class Meta:
        ordering = ["mailbox", "quota"]
        verbose_name = "avviso di spazio"
        verbose_name_plural = "avvisi di spazio"
        indexes = [
            models.Index(fields=["id"], condition=Q(email_pending=True), name="usagealert_pending"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "quota"], name="one_usage_alert_per_quota"),
            models.CheckConstraint(
                condition=Q(quota__in=UsageQuota.values), name="usagealert_quota_valid"
            ),
            models.CheckConstraint(
                condition=Q(level__in=(0, *USAGE_ALERT_LEVELS)), name="usagealert_level_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mailbox_id} {self.quota} {self.level}%"
