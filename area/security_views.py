"""The second factor in the Area Clienti: switch it on (QR code, first code, recovery
codes), new recovery codes, switch it off. Only for an account logged in with its e-mail
(a mailbox-credential session has no account to protect)."""

from functools import wraps

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from customers.forms import SecondFactorForm
from customers.security import (
    has_two_factor,
    recovery_codes_replace,
    second_factor_match,
    totp_device_start,
    totp_qr_data_uri,
    totp_secret,
    two_factor_confirm,
    two_factor_disable,
)

CODES_KEY = "two_factor_new_codes"


def account_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            messages.info(request, "Accedi con l'e-mail del tuo account per gestire la sicurezza.")
            return redirect(f"{reverse('customers:login')}?next={request.path}")
        return view(request, *args, **kwargs)

    return wrapper


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return ""


@account_required
def two_factor(request):
    """The account's security page: whether the second factor is on, and what to do."""
    codes = request.session.pop(CODES_KEY, None)
    return render(
        request,
        "area/two_factor.html",
        {
            "enabled": has_two_factor(request.user),
            "codes": codes,
            "next": _next(request),
            "staff_needs_it": request.user.is_staff and not has_two_factor(request.user),
        },
    )


@account_required
def two_factor_setup(request):
    user = request.user
    if has_two_factor(user):
        return redirect("area:two_factor")
    device = totp_device_start(user=user)
    form = SecondFactorForm(request.POST or None)
    form.fields["code"].help_text = "Le 6 cifre che l'app mostra ora."
    if request.method == "POST" and form.is_valid():
        codes = two_factor_confirm(user=user, device=device, code=form.cleaned_data["code"])
        if codes is not None:
            device.refresh_from_db()
            otp_login(request, device)
            request.session[CODES_KEY] = codes
            messages.success(request, "Verifica in due passaggi attivata.")
            next_url = _next(request)
            target = reverse("area:two_factor")
            return HttpResponseRedirect(f"{target}?next={next_url}" if next_url else target)
        form.add_error("code", "Codice non valido: controlla l'ora del telefono e riprova.")
    return render(
        request,
        "area/two_factor_setup.html",
        {
            "form": form,
            "forms_with_errors": [form] if form.errors else [],
            "qr": totp_qr_data_uri(device),
            "secret": totp_secret(device),
            "next": _next(request),
            "staff_needs_it": user.is_staff,
        },
    )


@account_required
@require_POST
def two_factor_codes(request):
    if not has_two_factor(request.user):
        return redirect("area:two_factor")
    request.session[CODES_KEY] = recovery_codes_replace(user=request.user)
    messages.success(request, "Nuovi codici di recupero creati: quelli di prima non valgono più.")
    return redirect("area:two_factor")


@account_required
def two_factor_off(request):
    """Switching it off asks for a current code (or a recovery code). Staff cannot: the
    admin requires it."""
    if not has_two_factor(request.user):
        return redirect("area:two_factor")
    if request.user.is_staff:
        messages.error(request, "Per lo staff la verifica in due passaggi è obbligatoria.")
        return redirect("area:two_factor")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if second_factor_match(user=request.user, code=form.cleaned_data["code"]) is not None:
            two_factor_disable(user=request.user)
            messages.success(request, "Verifica in due passaggi disattivata.")
            return redirect("area:two_factor")
        form.add_error("code", "Codice non valido.")
    return render(
        request,
        "area/two_factor_off.html",
        {"form": form, "forms_with_errors": [form] if form.errors else []},
    )
