"""Accounts (Customer) and the holders (titolari) they buy mailboxes for."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from customers import fiscal
from pecshop.append_only import AppendOnlyModel


class HolderKind(models.TextChoices):
    PERSON = "person", "persona fisica"
    COMPANY = "company", "azienda o professionista con partita IVA"


# Who a holder is. Once a mailbox has this holder these stay as they are: a mailbox that
# goes to someone else changes holder (mailboxes.staff.mailbox_change_holder), and a
# cancelled address may be bought again only by the same codice fiscale / partita IVA.
HOLDER_IDENTITY_FIELDS = (
    "kind",
    "first_name",
    "last_name",
    "company_name",
    "vat_number",
    "fiscal_code",
)

# The fields a holder profile is made of, in the order a person fills them in.
HOLDER_FIELDS = [
    *HOLDER_IDENTITY_FIELDS,
    "legal_representative",
    "street",
    "postal_code",
    "city",
    "province",
    "email",
    "sdi_code",
    "invoice_pec",
]


class Holder(models.Model):
    """The legal owner of a mailbox: a person (codice fiscale) or a company (partita IVA)."""

    Kind = HolderKind

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="holders",
        verbose_name="account",
    )
    kind = models.CharField("tipo", max_length=10, choices=Kind.choices)
    first_name = models.CharField("nome", max_length=100, blank=True)
    last_name = models.CharField("cognome", max_length=100, blank=True)
    company_name = models.CharField("ragione sociale", max_length=200, blank=True)
    vat_number = models.CharField("partita IVA", max_length=11, blank=True)
    fiscal_code = models.CharField("codice fiscale", max_length=16)
    legal_representative = models.CharField("legale rappresentante", max_length=200, blank=True)
    street = models.CharField("indirizzo", max_length=200)
    postal_code = models.CharField(
        "CAP", max_length=5, validators=[RegexValidator(r"^\d{5}$", "Il CAP ha 5 cifre.")]
    )
    city = models.CharField("comune", max_length=100)
    province = models.CharField(
        "provincia",
        max_length=2,
        validators=[RegexValidator(r"^[A-Z]{2}$", "Indica la sigla della provincia, es. RM.")],
    )
    email = models.EmailField("e-mail di contatto")
    sdi_code = models.CharField(
        "codice destinatario SDI",
        max_length=7,
        blank=True,
        validators=[RegexValidator(r"^[A-Z0-9]{7}$", "Il codice SDI ha 7 caratteri.")],
    )
    invoice_pec = models.EmailField("PEC per le fatture", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name", "company_name"]
        verbose_name = "titolare"
        verbose_name_plural = "titolari"
        indexes = [models.Index(fields=["fiscal_code"]), models.Index(fields=["vat_number"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=HolderKind.values), name="holder_kind_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="person") & ~Q(first_name="") & ~Q(last_name="")
                    | Q(kind="company") & ~Q(company_name="") & ~Q(vat_number="")
                ),
                name="holder_has_its_names",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name_of(self.kind, self.first_name, self.last_name, self.company_name)

    @staticmethod
    def name_of(kind: str, first_name: str, last_name: str, company_name: str) -> str:
        """The name a holder goes by: the company's, or the person's first and last name."""
        if kind == Holder.Kind.COMPANY:
            return company_name
        return f"{first_name} {last_name}".strip()

    @property
    def tax_id(self) -> str:
        """The identifier that says who the holder is: P.IVA for companies, else CF."""
        return self.vat_number or self.fiscal_code

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind == self.Kind.PERSON:
            if not self.first_name.strip():
                errors["first_name"] = "Indica il nome."
            if not self.last_name.strip():
                errors["last_name"] = "Indica il cognome."
            if self.vat_number:
                errors["vat_number"] = "Una persona fisica non ha partita IVA: scegli «azienda»."
            message = fiscal.person_fiscal_code_error(self.fiscal_code)
            if message:
                errors["fiscal_code"] = message
        elif self.kind == self.Kind.COMPANY:
            if not self.company_name.strip():
                errors["company_name"] = "Indica la ragione sociale."
            message = fiscal.vat_number_error(self.vat_number)
            if message:
                errors["vat_number"] = message
            message = fiscal.company_fiscal_code_error(self.fiscal_code)
            if message:
                errors["fiscal_code"] = message
            if not self.legal_representative.strip():
                errors["legal_representative"] = "Indica il legale rappresentante."
        if errors:
            raise ValidationError(errors)


class Customer(models.Model):
    """An account of the shop: a Django user (login by e-mail) and its own holder profile."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="customer"
    )
    own_holder = models.OneToOneField(
        Holder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="titolare dell'account",
    )
    phone = models.CharField("telefono", max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "cliente"
        verbose_name_plural = "clienti"

    def __str__(self) -> str:
        return self.user.email or self.user.get_username()

    @property
    def email(self) -> str:
        return self.user.email


class SecurityEventKind(models.TextChoices):
    TWO_FACTOR_ENABLED = "2fa_enabled", "verifica in due passaggi attivata"
    TWO_FACTOR_DISABLED = "2fa_disabled", "verifica in due passaggi disattivata"
    TWO_FACTOR_RESET = "2fa_reset", "verifica in due passaggi azzerata dallo staff"
    RECOVERY_CODES_NEW = "recovery_new", "nuovi codici di recupero"
    RECOVERY_CODE_USED = "recovery_used", "accesso con un codice di recupero"
    SIGNUP_CONFIRMED = "signup_confirmed", "indirizzo e-mail confermato"


class SecurityEvent(AppendOnlyModel):
    """Append-only audit of an account's security: second factor switched on or off, reset
    by staff (who and why), recovery codes issued or used, e-mail confirmed. Lockouts and
    unlocks are recorded by django-axes (AccessAttempt, AccessFailureLog)."""

    Kind = SecurityEventKind

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="security_events",
        verbose_name="account",
    )
    kind = models.CharField("tipo", max_length=20, choices=SecurityEventKind.choices)
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
        verbose_name = "evento di sicurezza"
        verbose_name_plural = "eventi di sicurezza"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=SecurityEventKind.values), name="security_event_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.user_id} {self.created_at:%Y-%m-%d}"

    edit_refused = "Gli eventi non si modificano: la storia è in sola aggiunta."
    delete_refused = "Gli eventi non si cancellano: la storia è in sola aggiunta."
