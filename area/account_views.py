"""Login, logout and account creation (URL names `customers:...`). They live with the views,
above billing: the anonymous cart follows the customer in.

Login is in two steps for an account with a second factor: the password, then the code of
the authenticator app (or a recovery code). Every failure, in either step, counts towards
the lockout of django-axes (account + client address); so do password reset requests.
"""

import time

from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from billing.services.cart import cart_merge
from customers.forms import EmailLoginForm, SecondFactorForm, SignupForm
from customers.models import Customer
from customers.security import (
    customer_signup,
    has_two_factor,
    second_factor_match,
    signup_confirm,
    signup_tokens,
)
from pecshop.security import lockout_response, login_username

PENDING_KEY = "login_pending"
PENDING_MAX_AGE = 300  # seconds between the password and the code


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def login_customer(request, user, device=None) -> None:
    """Log in and bring the anonymous cart along (the session key changes at login)."""
    anonymous_key = request.session.session_key
    login(request, user, backend="customers.backends.CustomerBackend")
    if device is not None:
        otp_login(request, device)
    customer, _ = Customer.objects.get_or_create(user=user)
    if anonymous_key:
        cart_merge(session_key=anonymous_key, customer=customer)


def login_view(request):
    form = EmailLoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        # The customer logs in to manage what they have: the Area Clienti, unless `next`
        # (the checkout, a page that asked for the login) says otherwise.
        next_url = _next_url(request, reverse("area:dashboard"))
        if has_two_factor(user):
            request.session[PENDING_KEY] = {"user": user.pk, "at": time.time(), "next": next_url}
            return redirect("customers:login_verify")
        login_customer(request, user)
        return redirect(next_url)
    return render(request, "customers/login.html", {"form": form, "next": _next_url(request, "")})


def login_verify(request):
    """The second step: the code of the authenticator app or a recovery code."""
    pending = request.session.get(PENDING_KEY) or {}
    user = None
    if isinstance(pending, dict) and time.time() - float(pending.get("at", 0)) < PENDING_MAX_AGE:
        user = get_user_model()._default_manager.filter(pk=pending.get("user")).first()
    if user is None or not user.is_active:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, "Inserisci di nuovo e-mail e password.")
        return redirect("customers:login")
    credentials = {"username": user.get_username()}
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST":
        if AxesProxyHandler.is_locked(request, credentials):
            return lockout_response(request, None, credentials)
        if form.is_valid():
            device = second_factor_match(user=user, code=form.cleaned_data["code"])
            if device is not None:
                request.session.pop(PENDING_KEY, None)
                login_customer(request, user, device)
                return redirect(pending.get("next") or "/")
            form.add_error("code", "Codice non valido: controlla l'ora del telefono e riprova.")
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    return render(
        request,
        "customers/login_verify.html",
        {"form": form, "forms_with_errors": [form] if form.errors else []},
    )


def signup_view(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        customer_signup(
            email=email,
            password=form.cleaned_data["password1"],
            next_url=_next_url(request, ""),
        )
        # The same answer whether or not the address has an account.
        return render(request, "customers/signup_sent.html", {"email": email})
    return render(
        request,
        "customers/signup.html",
        {
            "form": form,
            "next": _next_url(request, ""),
            "forms_with_errors": [form] if form.errors else [],
        },
    )


def signup_confirm_view(request, uidb64: str, token: str):
    try:
        user_id = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        user_id = None
    user = get_user_model()._default_manager.filter(pk=user_id).first() if user_id else None
    if user is None or not signup_tokens.check_token(user, token):
        return render(request, "customers/signup_invalid.html", status=400)
    if not user.is_active:
        signup_confirm(user=user)
    login_customer(request, user)
    messages.success(request, "Indirizzo confermato: benvenuto!")
    return redirect(_next_url(request, reverse("area:dashboard")))


@require_POST
def logout_view(request):
    logout(request)
    messages.success(request, "Sei uscito dal tuo account.")
    return redirect("/")


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Each request counts as an attempt on the account from this client address: after
    the limit it is refused like a login (the lockout page)."""

    def post(self, request, *args, **kwargs):
        credentials = {"username": login_username(request, {"username": request.POST.get("email")})}
        if credentials["username"] and isinstance(credentials["username"], str):
            if AxesProxyHandler.is_locked(request, credentials):
                return lockout_response(request, None, credentials)
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            if getattr(request, "axes_locked_out", False):  # this request reached the limit
                return lockout_response(request, None, credentials)
        return super().post(request, *args, **kwargs)


class UnlockingPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A new password chosen through the e-mailed link lifts the account's lockout."""

    def form_valid(self, form):
        response = super().form_valid(form)
        axes_reset(username=form.user.get_username())
        return response
