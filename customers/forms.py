from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string

from customers import fiscal
from customers.models import HOLDER_FIELDS, HOLDER_IDENTITY_FIELDS, Holder, HolderKind


class EmailLoginForm(AuthenticationForm):
    """Django's login form, with the e-mail as the username."""

    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        "invalid_login": "E-mail o password non corretti.",
        "inactive": "Questo account è disattivato.",
    }

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


class SignupForm(forms.Form):
    email = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Almeno 8 caratteri, non solo numeri, non troppo comune.",
    )
    password2 = forms.CharField(
        label="Ripeti la password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self):
        # Whether the address has an account is not said here: the owner gets an e-mail.
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "Le due password non coincidono.")
        elif p1:
            user = get_user_model()(
                username=cleaned.get("email", ""), email=cleaned.get("email", "")
            )
            try:
                validate_password(p1, user)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class HolderForm(forms.ModelForm):
    """A holder profile: a person or a company, validated by its check digits."""

    kind = forms.ChoiceField(
        label="Il titolare è",
        choices=HolderKind.choices,
        widget=forms.RadioSelect,
        initial=HolderKind.PERSON,
    )

    class Meta:
        model = Holder
        fields = HOLDER_FIELDS
        help_texts = {
            "fiscal_code": "16 caratteri per una persona; 11 cifre per una società.",
            "sdi_code": "Per le aziende: il codice di 7 caratteri per ricevere la fattura elettronica.",
            "invoice_pec": "In alternativa al codice SDI.",
        }
        widgets = {
            "province": forms.TextInput(attrs={"maxlength": 2, "size": 3}),
            "postal_code": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 5}),
        }

    # The fields of one kind of holder only; the page shows those of the chosen kind.
    PERSON_ONLY = ("first_name", "last_name")
    COMPANY_ONLY = ("company_name", "vat_number", "legal_representative", "sdi_code", "invoice_pec")
    # Required for their kind: the model says which is missing, once, with its own message.
    KIND_REQUIRED = ("first_name", "last_name", "company_name", "vat_number")
    KIND_REQUIRED += ("legal_representative", "fiscal_code")

    def __init__(self, *args, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        for name in self.KIND_REQUIRED:
            if name in self.fields:
                self.fields[name].required = False
                self.fields[name].shown_required = True  # marked with * on the page

    def clean(self):
        cleaned = super().clean()
        # Without JavaScript or CSS the other kind's fields may still be posted: they are
        # not this holder's data, so they are ignored rather than refused.
        kind = cleaned.get("kind")
        hidden = {
            HolderKind.PERSON: self.COMPANY_ONLY,
            HolderKind.COMPANY: self.PERSON_ONLY,
        }.get(kind, ())
        for name in hidden:
            if name in self.fields and not self.fields[name].disabled:
                cleaned[name] = ""
        self.cleaned_data = fiscal.normalize_codes(cleaned)
        return self.cleaned_data

    def _post_clean(self):
        # Validate with the model's own rules (check digits, names per kind).
        if self.customer is not None:
            self.instance.customer = self.customer
        super()._post_clean()

    def holder_fields(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in self.Meta.fields}


class HolderProfileForm(HolderForm):
    """A saved holder profile in the Area Clienti. `locked` (the holder has mailboxes)
    shows who the holder is without letting it change; `offer_own` asks whether a new
    profile is the account's own."""

    own = forms.BooleanField(
        label="Sono i dati del titolare dell'account (i miei o della mia azienda)",
        required=False,
    )

    def __init__(self, *args, locked: bool = False, offer_own: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not offer_own:
            del self.fields["own"]
        if locked:
            for name in HOLDER_IDENTITY_FIELDS:
                self.fields[name].disabled = True
                self.fields[name].help_text = ""


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, with its e-mail written to the outbox instead of sent in the
    request: a mail server or broker that is down delays the link, never loses it."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        from outbox.services import email_enqueue
        from pecshop.mail import email_build

        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        # emails/<name>.txt and emails/<name>.html, as every e-mail of the shop.
        name = email_template_name.removeprefix("emails/").removesuffix(".txt")
        message = email_build(name, context, subject=subject, to=[to_email], from_email=from_email)
        email_enqueue(message=message)


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label="Codice di verifica",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text="6 cifre dall'app, oppure un codice di recupero.",
        error_messages={"required": "Indica il codice.", "max_length": "Il codice è troppo lungo."},
    )
