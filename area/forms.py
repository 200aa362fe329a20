"""Forms of the Area Clienti actions. They parse input into the item parameters that the
pricing engine checks; they never carry a price."""

from django import forms
from django.contrib.auth.hashers import check_password

from billing.forms import YEAR_CHOICES, payment_method_field
from billing.pricing import Catalogue, quota_gb
from customers.security import dummy_password_check
from mailboxes.models import Mailbox, MailboxStatus

QUANTITY_ERRORS = {
    "min_value": "Indica almeno 1.",
    "invalid": "Indica un numero intero.",
    "required": "Indica la quantità.",
}


def _units(catalogue: Catalogue, code: str) -> str:
    return {"GB": "GB", "USER": "utenti"}.get(catalogue.addon(code).unit, "")


class AddOnPurchaseForm(forms.Form):
    """Acquista (a new add-on), Aumenta (more units of one held) or Multiutente users."""

    addon = forms.ChoiceField(label="Servizio")
    quantity = forms.IntegerField(
        label="Quantità", min_value=1, initial=1, error_messages=QUANTITY_ERRORS
    )

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["addon"].choices = choices
        if len(choices) == 1:
            self.fields["addon"].initial = choices[0][0]
            self.fields["addon"].widget = forms.HiddenInput()
            # The only service on offer is named next to the quantity, with what it has now.
            self.fields["quantity"].label = f"Quantità da aggiungere: {choices[0][1]}"

    def item_params(self) -> dict:
        return {"add": {self.cleaned_data["addon"]: self.cleaned_data["quantity"]}}


class UpgradeForm(forms.Form):
    to_tier = forms.ChoiceField(label="Nuova tipologia", widget=forms.RadioSelect)

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_tier"].choices = choices

    def item_params(self) -> dict:
        return {"to_tier": self.cleaned_data["to_tier"]}


def _sells_archive(catalogue: Catalogue, tier: str) -> bool:
    """Whether a tier has a security archive at all (included GB or the add-on on sale)."""
    return quota_gb(catalogue, tier, {}, "archive") > 0 or catalogue.rule(tier, "ARCHIVIO").sold


class TierSelect(forms.Select):
    """The tier choice; the options that lose the security archive say so in an attribute
    the stylesheet reads to show the confirmation box."""

    def __init__(self, *args, loses_archive: set[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.loses_archive = loses_archive

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if value in self.loses_archive:
            option["attrs"]["data-loses-archive"] = "true"
        return option


class RenewalForm(forms.Form):
    """Rinnova for 1-5 years; optionally change tier, lower or drop add-ons, add units."""

    years = forms.TypedChoiceField(
        label="Durata del rinnovo",
        choices=YEAR_CHOICES,
        coerce=int,
        initial=1,
        widget=forms.RadioSelect,
    )
    to_tier = forms.ChoiceField(label="Tipologia dal rinnovo", required=False)
    confirm_archive_loss = forms.BooleanField(
        label="Confermo: passando a una tipologia senza archivio di sicurezza il suo "
        "contenuto sarà eliminato",
        required=False,
    )

    def __init__(
        self,
        *args,
        catalogue: Catalogue,
        mailbox: Mailbox,
        holdings: dict[str, int],
        to_tier: str = "",
        addable: tuple[str, ...] = (),
        changes_allowed: bool = True,
        **kwargs,
    ):
        """`to_tier` is the renewal's target tier (default: the same) and `addable` the
        add-ons it may add, both as `area.selectors.mailbox_actions` offers them."""
        super().__init__(*args, **kwargs)
        self.keep_fields, self.add_fields = [], []
        if not changes_allowed:
            for name in ("to_tier", "confirm_archive_loss"):
                del self.fields[name]
            return
        self.fields["to_tier"].choices = [
            (code, tier.name)
            for code, tier in sorted(catalogue.tiers.items(), key=lambda t: t[1].rank)
        ]
        self.fields["to_tier"].initial = to_tier or mailbox.tier.code
        # The tiers that would take the security archive away: only choosing one of them
        # shows (stylesheet) and asks for (clean) the confirmation of its loss.
        has_archive = quota_gb(catalogue, mailbox.tier.code, holdings, "archive") > 0
        self.archive_loss_tiers = {
            code
            for code in catalogue.tiers
            if has_archive and code != mailbox.tier.code and not _sells_archive(catalogue, code)
        }
        self.fields["to_tier"].widget = TierSelect(loses_archive=self.archive_loss_tiers)
        self.fields["to_tier"].widget.choices = self.fields["to_tier"].choices
        self.fields["confirm_archive_loss"].wrapper_class = "archive-loss"
        for code in catalogue.ordered(holdings):
            name = f"keep_{code}"
            self.fields[name] = forms.IntegerField(
                label=f"{catalogue.addon(code).name}: da mantenere ({_units(catalogue, code)})",
                min_value=0,
                max_value=holdings[code],
                initial=holdings[code],
                required=False,
                help_text=f"Ora {holdings[code]}. Indica meno per ridurre, 0 per non rinnovarlo.",
            )
            self.keep_fields.append(name)
        for code in addable:
            name = f"add_{code}"
            self.fields[name] = forms.IntegerField(
                label=f"{catalogue.addon(code).name}: da aggiungere",
                min_value=0,
                initial=0,
                required=False,
            )
            self.add_fields.append(name)
        self.holdings = holdings

    def clean(self):
        cleaned = super().clean()
        if "confirm_archive_loss" not in self.fields:
            return cleaned
        if cleaned.get("to_tier") in self.archive_loss_tiers:
            if not cleaned.get("confirm_archive_loss"):
                self.add_error(
                    "confirm_archive_loss",
                    "Passando a questa tipologia il contenuto dell'archivio di sicurezza viene "
                    "eliminato: conferma per procedere.",
                )
        else:
            cleaned["confirm_archive_loss"] = False  # nothing is lost: no confirmation kept
        return cleaned

    def item_params(self) -> dict:
        data = self.cleaned_data
        params = {"years": data["years"]}
        if data.get("to_tier"):
            params["to_tier"] = data["to_tier"]
        keep = {
            name.removeprefix("keep_"): data[name]
            for name in self.keep_fields
            if data.get(name) is not None
            and data[name] != self.holdings[name.removeprefix("keep_")]
        }
        add = {name.removeprefix("add_"): data[name] for name in self.add_fields if data.get(name)}
        if keep:
            params["keep"] = keep
        if add:
            params["add"] = add
        if data.get("confirm_archive_loss"):
            params["confirm_archive_loss"] = True
        return params


class PaymentChoiceForm(forms.Form):
    payment_method = payment_method_field()
    token = forms.CharField(widget=forms.HiddenInput)


class ReductionForm(forms.Form):
    addon = forms.ChoiceField(label="Spazio da ridurre")
    quantity = forms.IntegerField(
        label="GB aggiuntivi dal prossimo rinnovo",
        min_value=0,
        error_messages={"min_value": "Indica 0 o più.", "invalid": "Indica un numero intero."},
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["addon"].choices = choices


class CancellationForm(forms.Form):
    when = forms.ChoiceField(
        label="Quando",
        choices=[("expiry", "Alla scadenza naturale"), ("now", "Subito")],
        widget=forms.RadioSelect,
        initial="expiry",
    )
    confirm = forms.BooleanField(
        label="Confermo la disdetta: dopo la cancellazione la casella non si può recuperare",
        error_messages={"required": "Per procedere conferma la disdetta."},
    )


class HolderChoiceForm(forms.Form):
    holder = forms.ChoiceField(label="Nuovo titolare", widget=forms.RadioSelect)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].choices = choices


class MailboxLoginForm(forms.Form):
    """Enter with a mailbox's own address and password: only that mailbox is shown."""

    address = forms.EmailField(label="Indirizzo della casella PEC")
    password = forms.CharField(
        label="Password della casella", strip=False, widget=forms.PasswordInput
    )

    def clean(self):
        cleaned = super().clean()
        address = (cleaned.get("address") or "").strip().lower()
        mailbox = (
            Mailbox.objects.filter(address=address)
            .exclude(status__in=[MailboxStatus.CANCELLED, MailboxStatus.PENDING])
            .first()
        )
        password = cleaned.get("password") or ""
        if mailbox is None or not mailbox.password:
            dummy_password_check(password)  # as long as for a real address
            mailbox = None
        if mailbox is None or not check_password(password, mailbox.password):
            raise forms.ValidationError("Indirizzo o password della casella non corretti.")
        self.mailbox = mailbox
        return cleaned
