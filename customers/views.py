"""Login, logout and account creation. The anonymous cart follows the customer in."""

from django.contrib import messages
from django.contrib.auth import login, logout
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from billing.services.cart import cart_merge
from customers.forms import EmailLoginForm, SignupForm
from customers.models import Customer
from customers.services import customer_create


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def login_customer(request, user) -> None:
    """Log in and bring the anonymous cart along (the session key changes at login)."""
    anonymous_key = request.session.session_key
    login(request, user, backend="customers.backends.CustomerBackend")
    customer, _ = Customer.objects.get_or_create(user=user)
    if anonymous_key:
        cart_merge(session_key=anonymous_key, customer=customer)


def login_view(request):
    form = EmailLoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login_customer(request, form.get_user())
        # The customer logs in to manage what they have: the Area Clienti, unless `next`
        # (the checkout, a page that asked for the login) says otherwise.
        return redirect(_next_url(request, reverse("area:dashboard")))
    return render(request, "customers/login.html", {"form": form, "next": _next_url(request, "")})


def signup_view(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            customer = customer_create(
                email=form.cleaned_data["email"], password=form.cleaned_data["password1"]
            )
        login_customer(request, customer.user)
        messages.success(request, "Account creato: benvenuto!")
        return redirect(_next_url(request, reverse("area:dashboard")))
    return render(
        request,
        "customers/signup.html",
        {
            "form": form,
            "next": _next_url(request, ""),
            "forms_with_errors": [form] if form.errors else [],
        },
    )


@require_POST
def logout_view(request):
    logout(request)
    messages.success(request, "Sei uscito dal tuo account.")
    return redirect("/")
