"""The admin site: a second factor is mandatory for every staff account.

The login page asks for the password and, for staff who have set one up, the code of the
authenticator app (or a recovery code). Staff without a confirmed device are sent to set
one up in the Area Clienti before any admin page opens. Failed attempts, wrong codes
included, count towards the lockout (django-axes).
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from customers.security import has_two_factor, second_factor_match


class AdminLoginForm(AdminAuthenticationForm):
    otp_token = forms.CharField(
        label="Codice di verifica",
        required=False,
        max_length=16,
        help_text="Le 6 cifre dell'app di autenticazione, o un codice di recupero. "
        "Se non hai ancora attivato la verifica in due passaggi lascialo vuoto.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": "Nome utente o password non corretti (per lo staff contano maiuscole "
        "e minuscole).",
        "otp_invalid": "Codice di verifica mancante o non valido.",
    }

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and has_two_factor(user):
            device = second_factor_match(user=user, code=cleaned.get("otp_token") or "")
            if device is None:
                user_login_failed.send(
                    sender=type(self),
                    credentials={"username": cleaned.get("username")},
                    request=self.request,
                )
                self.user_cache = None
                raise forms.ValidationError(self.error_messages["otp_invalid"], code="otp_invalid")
            # django-otp's user_logged_in receiver marks the session as verified.
            user.otp_device = device
        return cleaned


class ShopAdminSite(admin.AdminSite):
    login_form = AdminLoginForm
    login_template = "admin/pecshop/login.html"

    def has_permission(self, request):
        user = request.user
        return super().has_permission(request) and user.is_verified()

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def wrapper(request, *args, **kwargs):
            user = request.user
            if (
                user.is_active
                and user.is_staff
                and not user.is_verified()
                and request.path != reverse("admin:logout", current_app=self.name)
                and not has_two_factor(user)
            ):
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('area:two_factor_setup')}?{query}")
            return inner(request, *args, **kwargs)

        wrapper.__dict__.update(getattr(inner, "__dict__", {}))
        wrapper.admin_site = self
        return wrapper
