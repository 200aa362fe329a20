"""Writes and checks for an account's security: signup confirmed by e-mail, the second
factor (TOTP through django-otp, with single-use recovery codes), and its reset by staff.

Lost device: the customer logs in with one of the ten recovery codes shown when the second
factor was switched on (each works once), then switches the factor off or sets up a new
device. Without codes, staff reset it from the admin (Utenti > "Azzera la verifica in due
passaggi"), which writes a `SecurityEvent` naming the staff user and the reason.
"""

import base64
import io
from functools import cache

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from customers.models import Customer, SecurityEvent, SecurityEventKind
from outbox.services import email_enqueue
from pecshop.mail import email_build
from pecshop.prepared import prepared

RECOVERY_CODES = 10
TOTP_DEVICE_NAME = "App di autenticazione"
RECOVERY_DEVICE_NAME = "Codici di recupero"


# --- timing-equal password checks ------------------------------------------------------------


@cache
def _dummy_hash() -> str:
    return make_password("una password che nessuno ha")


def dummy_password_check(password: str) -> None:
    """As slow as checking a real password: an unknown address answers in the same time."""
    check_password(password or "", _dummy_hash())


# --- signup confirmed by e-mail ----------------------------------------------------------------


class SignupTokenGenerator(PasswordResetTokenGenerator):
    """Single-use: the token depends on last_login, which the first login sets."""

    key_salt = "customers.security.SignupTokenGenerator"


signup_tokens = SignupTokenGenerator()


def signup_link(user, next_url: str = "") -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("customers:signup_confirm", args=[uid, signup_tokens.make_token(user)])
    if next_url:
        from urllib.parse import urlencode

        path = f"{path}?{urlencode({'next': next_url})}"
    return f"{settings.SITE_URL}{path}"


SIGNUP_SUBJECTS = {
    "signup_confirm": "Conferma il tuo indirizzo per PEC Shop",
    "signup_existing": "Il tuo account PEC Shop",
}


def _send(to: str, name: str, context: dict, *, key: str | None = None) -> None:
    """The e-mail `name` (text and HTML) to the outbox, in the caller's transaction."""
    message = email_build(name, context, subject=SIGNUP_SUBJECTS[name], to=[to])
    email_enqueue(message=message, key=key)


def customer_signup(*, email: str, password: str, next_url: str = "") -> None:
    """A new account that can log in only once its address is confirmed through the link
    e-mailed to it. If the address already has an account nothing is created and its
    owner is told by e-mail instead; the caller answers the same either way."""
    User = get_user_model()
    email = User.objects.normalize_email(email).strip().lower()
    existing = User.objects.filter(username=email).first()
    if existing is None:
        user = User(username=email, email=email, is_active=False)
        user.set_password(password)
        user.full_clean()
        with transaction.atomic():
            user.save()
            Customer.objects.create(user=user)
            # Written with the account, sent after commit: once per account.
            _send(
                email,
                "signup_confirm",
                {"link": signup_link(user, next_url)},
                key=f"signup_confirm:{user.pk}",
            )
        return
    dummy_password_check(password)  # the same work as hashing the new password
    pending = not existing.is_active and existing.last_login is None
    with transaction.atomic():
        _send(
            email,
            "signup_existing",
            {
                "pending": pending,
                "link": signup_link(existing, next_url) if pending else "",
                "login_url": f"{settings.SITE_URL}{reverse('customers:login')}",
                "reset_url": f"{settings.SITE_URL}{reverse('customers:password_reset')}",
            },
        )


@transaction.atomic
def signup_confirm(*, user) -> None:
    user.is_active = True
    user.save(update_fields=["is_active"])
    SecurityEvent.objects.create(user=user, kind=SecurityEventKind.SIGNUP_CONFIRMED)


# --- the second factor -----------------------------------------------------------------------


@prepared
def _confirmed_totp(user_id: int) -> QuerySet:
    return TOTPDevice.objects.filter(user_id=user_id, confirmed=True)


def has_two_factor(user, *, as_loaded: bool = False) -> bool:
    """A confirmed TOTP device (recovery codes alone are no second factor): one query.
    `as_loaded`: the answer read with the user at the start of the request
    (customers.backends), good enough for what a page only shows, such as a reminder."""
    if as_loaded and getattr(user, "two_factor_as_loaded", None) is not None:
        return user.two_factor_as_loaded
    return _confirmed_totp.exists(user_id=user.pk)


def totp_device_start(*, user) -> TOTPDevice:
    """The device being set up: unconfirmed until the customer types its first code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The device's otpauth:// link as an SVG QR code, for an <img> (no Pillow needed)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def totp_secret(device: TOTPDevice) -> str:
    """The secret in base32, for typing into an app that cannot read the QR code."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def recovery_codes_new(*, user) -> list[str]:
    """Ten new single-use codes; the old ones stop working."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def two_factor_confirm(*, user, device: TOTPDevice, code: str) -> list[str] | None:
    """Switch the second factor on if `code` is the device's current one: returns the new
    recovery codes, or None for a wrong code."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
    if not device.verify_token(code.replace(" ", "")):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = recovery_codes_new(user=user)
    SecurityEvent.objects.create(user=user, kind=SecurityEventKind.TWO_FACTOR_ENABLED)
    return codes


@transaction.atomic
def recovery_codes_replace(*, user) -> list[str]:
    codes = recovery_codes_new(user=user)
    SecurityEvent.objects.create(user=user, kind=SecurityEventKind.RECOVERY_CODES_NEW)
    return codes


def _remove_devices(user) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticToken.objects.filter(device__user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


@transaction.atomic
def two_factor_disable(*, user) -> None:
    _remove_devices(user)
    SecurityEvent.objects.create(user=user, kind=SecurityEventKind.TWO_FACTOR_DISABLED)


@transaction.atomic
def two_factor_reset_by_staff(*, user, actor, reason: str) -> None:
    """The lost-device path without recovery codes: staff, having checked who is asking,
    remove the account's devices; the customer logs in with the password and sets up the
    factor again. Recorded with the staff user and the reason."""
    if not reason.strip():
        raise ValueError("Indica il motivo dell'azzeramento.")
    _remove_devices(user)
    SecurityEvent.objects.create(
        user=user, kind=SecurityEventKind.TWO_FACTOR_RESET, actor=actor, reason=reason.strip()
    )


def second_factor_match(*, user, code: str):
    """The confirmed device `code` belongs to (a TOTP code, or a recovery code, which is
    used up), or None."""
    code = (code or "").replace(" ", "").strip()
    if not code or len(code) > 16:
        return None
    device = match_token(user, code)
    if isinstance(device, StaticDevice):
        SecurityEvent.objects.create(user=user, kind=SecurityEventKind.RECOVERY_CODE_USED)
    return device
