"""Forms of the web cart. They parse and check input; prices come from the pricing engine."""

import uuid

from django import forms
from django.conf import settings

from billing.models import PaymentMethod
from billing.pricing import Catalogue
from mailboxes.addresses import MAX_LENGTH, local_part_error

YEAR_CHOICES = [(n, f"{n} {'anno' if n == 1 else 'anni'}") for n in range(1, 6)]


class MailboxConfigForm(forms.Form):
    """A new mailbox of one tier: address, term and the add-ons the tier sells."""

    local_part = forms.CharField(
        label="Nome della casella",
        max_length=MAX_LENGTH,
        help_text="Lettere, cifre, punto, trattino e trattino basso; da 3 a 64 caratteri.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    domain = forms.ChoiceField(label="Dominio")
    years = forms.TypedChoiceField(
        label="Durata", choices=YEAR_CHOICES, coerce=int, initial=1, widget=forms.RadioSelect
    )

    def __init__(self, *args, catalogue: Catalogue, tier: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.catalogue = catalogue
        self.tier = tier
        self.fields["domain"].choices = [(d, f"@{d}") for d in settings.PEC_DOMAINS]
        self.addon_fields = []
        for code in catalogue.ordered(catalogue.addons):
            rule = catalogue.rule(tier, code)
            if not rule.sold:
                continue
            addon = catalogue.addon(code)
            name = f"addon_{code}"
            unit = {"GB": "GB", "USER": "utenti"}.get(addon.unit)
            if addon.unit == "SERVICE" and rule.max_quantity == 1:
                # A service is on or off: a checkbox, not a 0/1 number.
                self.fields[name] = forms.BooleanField(
                    label=f"{addon.name}: attiva il servizio",
                    required=False,
                    widget=forms.CheckboxInput(attrs={"data-addon": code}),
                )
                self.addon_fields.append(name)
                continue
            self.fields[name] = forms.IntegerField(
                label=addon.name,
                required=False,
                min_value=0,
                max_value=rule.max_quantity,
                initial=0,
                help_text=(
                    f"Da 0 a {rule.max_quantity} {unit}" if unit else "Attiva il servizio (0 o 1)"
                ),
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "data-addon": code}),
                error_messages={
                    "max_value": f"Per la tipologia {catalogue.tier(tier).name} al massimo "
                    f"{rule.max_quantity}.",
                    "min_value": "La quantità non può essere negativa.",
                    "invalid": "Indica un numero intero.",
                },
            )
            self.addon_fields.append(name)

    def clean(self):
        cleaned = super().clean()
        # A quantity posted for an add-on this tier does not sell (a tampered form).
        for name in self.data:
            if name.startswith("addon_") and name not in self.fields:
                code = name.removeprefix("addon_")
                addon = self.catalogue.addons.get(code)
                label = addon.name if addon else code
                if str(self.data.get(name) or "0").strip() not in {"", "0"}:
                    self.add_error(
                        None,
                        f"{label} non è disponibile per la tipologia "
                        f"{self.catalogue.tier(self.tier).name}.",
                    )
        return cleaned

    def clean_local_part(self):
        value = self.cleaned_data["local_part"].strip().lower()
        message = local_part_error(value)
        if message:
            raise forms.ValidationError(message)
        return value

    def item_params(self) -> dict:
        data = self.cleaned_data
        return {
            "tier": self.tier,
            "local_part": data["local_part"],
            "domain": data["domain"],
            "years": data["years"],
            "addons": {
                name.removeprefix("addon_"): int(data[name])  # a ticked service is 1
                for name in self.addon_fields
                if data.get(name)
            },
        }

    @classmethod
    def initial_from_params(cls, params: dict) -> dict:
        initial = {
            "local_part": params.get("local_part", ""),
            "domain": params.get("domain", ""),
            "years": params.get("years", 1),
        }
        for code, quantity in params.get("addons", {}).items():
            initial[f"addon_{code}"] = quantity
        return initial


class MailboxSetupForm(forms.Form):
    """At checkout, for one new mailbox: its holder and its own password."""

    holder = forms.ChoiceField(label="Titolare della casella", widget=forms.RadioSelect)
    password1 = forms.CharField(
        label="Password della casella",
        strip=False,
        min_length=10,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Almeno 10 caratteri: serve per accedere alla casella.",
        error_messages={"min_length": "Almeno 10 caratteri."},
    )
    password2 = forms.CharField(
        label="Ripeti la password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, holder_choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].choices = holder_choices
        self.fields["holder"].initial = holder_choices[0][0]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "Le due password non coincidono.")
        return cleaned


def payment_method_field() -> forms.ChoiceField:
    """The choice of how to pay, the same at checkout and in the Area Clienti."""
    return forms.ChoiceField(
        label="Metodo di pagamento",
        choices=[(value, label[0].upper() + label[1:]) for value, label in PaymentMethod.choices],
        widget=forms.RadioSelect,
        initial=PaymentMethod.CARD,
    )


class CheckoutForm(forms.Form):
    payment_method = payment_method_field()
    accept_terms = forms.BooleanField(
        label="Accetto le condizioni di contratto",
        error_messages={"required": "Per procedere accetta le condizioni di contratto."},
    )
    accept_privacy = forms.BooleanField(
        label="Ho letto l'informativa sulla privacy",
        error_messages={"required": "Per procedere conferma di aver letto l'informativa."},
    )
    placement_key = forms.CharField(widget=forms.HiddenInput)

    @staticmethod
    def new_key() -> str:
        return uuid.uuid4().hex
