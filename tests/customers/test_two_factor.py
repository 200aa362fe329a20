"""Two-factor authentication: switched on from the Area Clienti, used at login (a TOTP code
or a recovery code), a wrong code refused, mandatory for staff in the admin, and the
lost-device path (recovery codes, staff reset with an audit event)."""

import re

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from customers.models import SecurityEvent, SecurityEventKind
from customers.security import has_two_factor
from tests.conftest import give_second_factor

pytestmark = pytest.mark.django_db

PASSWORD = "Password-Sicura-1"


def current_code(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def switch_on(client, user) -> list[str]:
    page = client.get("/area-clienti/sicurezza/attiva/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/area-clienti/sicurezza/attiva/", {"code": current_code(device)})
    assert response.status_code == 302
    codes_page = client.get(response["Location"]).content.decode()
    return re.findall(r"<li><code>([a-z0-9]+)</code></li>", codes_page)


def password_step(client, username="alice@example.it", password=PASSWORD):
    return client.post("/accedi/", {"username": username, "password": password})


def test_the_dashboard_encourages_the_second_factor_until_it_is_on(client, alice, tiers):
    client.force_login(alice.user)
    assert "Proteggi il tuo account" in client.get("/area-clienti/").content.decode()
    switch_on(client, alice.user)
    assert "Proteggi il tuo account" not in client.get("/area-clienti/").content.decode()


def test_switching_it_on_shows_a_qr_code_and_ten_recovery_codes(client, alice):
    client.force_login(alice.user)
    page = client.get("/area-clienti/sicurezza/attiva/").content.decode()
    assert 'src="data:image/svg+xml;base64,' in page
    assert "Verifica e attiva" in page

    device = TOTPDevice.objects.get(user=alice.user)
    wrong = client.post("/area-clienti/sicurezza/attiva/", {"code": "000000"})
    if current_code(device) != "000000":
        assert "Codice non valido" in wrong.content.decode()
        assert not has_two_factor(alice.user)
    device.refresh_from_db()
    device.throttle_reset()  # django-otp makes the next try wait after a wrong code

    codes = switch_on(client, alice.user)
    assert len(codes) == 10
    assert has_two_factor(alice.user)
    assert SecurityEvent.objects.filter(
        user=alice.user, kind=SecurityEventKind.TWO_FACTOR_ENABLED
    ).exists()
    # Shown once only.
    assert "<code>" not in client.get("/area-clienti/sicurezza/").content.decode()


def test_login_asks_for_the_code_and_accepts_the_current_one(alice):
    setup = Client()
    setup.force_login(alice.user)
    switch_on(setup, alice.user)
    device = TOTPDevice.objects.get(user=alice.user, confirmed=True)

    client = Client()
    step = password_step(client)
    assert step["Location"] == "/accedi/verifica/"
    assert "_auth_user_id" not in client.session
    assert client.get("/area-clienti/").status_code == 302  # not logged in yet

    # The code used when switching on cannot be replayed: take the next one.
    device.refresh_from_db()
    done = client.post("/accedi/verifica/", {"code": current_code(device, offset=1)})
    assert done.status_code == 302
    assert client.get("/area-clienti/").status_code == 200


def test_a_wrong_code_is_refused(alice):
    setup = Client()
    setup.force_login(alice.user)
    switch_on(setup, alice.user)
    client = Client()
    password_step(client)
    refused = client.post("/accedi/verifica/", {"code": "123456x"})
    assert refused.status_code == 200
    assert "Codice non valido" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_wrong_codes_count_towards_the_lockout(alice):
    setup = Client()
    setup.force_login(alice.user)
    codes = switch_on(setup, alice.user)
    client = Client()
    password_step(client)
    for _ in range(11):
        client.post("/accedi/verifica/", {"code": "abcdefgh"})
    assert client.post("/accedi/verifica/", {"code": codes[0]}).status_code == 429


def test_a_recovery_code_logs_in_once(alice):
    setup = Client()
    setup.force_login(alice.user)
    codes = switch_on(setup, alice.user)

    client = Client()
    password_step(client)
    assert client.post("/accedi/verifica/", {"code": codes[0]}).status_code == 302
    assert client.get("/area-clienti/").status_code == 200
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.RECOVERY_CODE_USED).count() == 1
    assert StaticToken.objects.filter(device__user=alice.user).count() == 9

    again = Client()
    password_step(again)
    assert (
        "Codice non valido" in again.post("/accedi/verifica/", {"code": codes[0]}).content.decode()
    )


def test_after_losing_the_phone_a_recovery_code_lets_the_customer_switch_it_off(alice):
    setup = Client()
    setup.force_login(alice.user)
    codes = switch_on(setup, alice.user)
    client = Client()
    password_step(client)
    client.post("/accedi/verifica/", {"code": codes[0]})
    off = client.post("/area-clienti/sicurezza/disattiva/", {"code": codes[1]})
    assert off.status_code == 302
    assert not has_two_factor(alice.user)
    assert password_step(Client())["Location"] == "/area-clienti/"  # no second step


def staff_user(username="sara", group="Supporto"):
    user = User.objects.create_user(
        username, f"{username}@pecshop.example", "Staff-Password-1", is_staff=True
    )
    user.groups.add(Group.objects.get(name=group))
    return user


def test_staff_without_a_second_factor_are_sent_to_set_one_up(db):
    staff = staff_user()
    client = Client()
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/area-clienti/sicurezza/attiva/?next=%2Fadmin%2F")
    assert client.get("/admin/billing/order/").status_code == 302

    # Logging in at the admin with the password alone is no way round it.
    other = Client()
    login = other.post(
        "/admin/login/?next=/admin/",
        {"username": "sara", "password": "Staff-Password-1"},
    )
    assert login.status_code == 302
    assert other.get("/admin/")["Location"].startswith("/area-clienti/sicurezza/attiva/")

    codes = switch_on(client, staff)
    assert len(codes) == 10
    assert client.get("/admin/").status_code == 200


def test_staff_with_a_device_log_in_to_the_admin_only_with_a_valid_code(db):
    staff = staff_user()
    device = give_second_factor(staff)
    client = Client()
    without = client.post(
        "/admin/login/?next=/admin/", {"username": "sara", "password": "Staff-Password-1"}
    )
    assert without.status_code == 200
    assert "Codice di verifica mancante o non valido" in without.content.decode()
    assert client.get("/admin/").status_code == 302

    wrong = client.post(
        "/admin/login/?next=/admin/",
        {"username": "sara", "password": "Staff-Password-1", "otp_token": "000001"},
    )
    assert wrong.status_code == 200
    device.refresh_from_db()
    device.throttle_reset()  # django-otp makes the next try wait after a wrong code

    ok = client.post(
        "/admin/login/?next=/admin/",
        {"username": "sara", "password": "Staff-Password-1", "otp_token": current_code(device)},
    )
    assert ok.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_staff_with_a_device_but_an_unverified_session_cannot_open_the_admin(db):
    staff = staff_user()
    give_second_factor(staff)
    client = Client()
    client.post("/accedi/", {"username": "sara", "password": "Staff-Password-1"})
    # The e-mail login form takes e-mails only; a session with the password alone:
    client.force_login(staff)
    session = client.session
    session.pop("otp_device_id", None)
    session.save()
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_staff_reset_a_lost_second_factor_with_an_audit_event(client, alice):
    setup = Client()
    setup.force_login(alice.user)
    switch_on(setup, alice.user)
    boss = staff_user("andrea", "Amministrazione")
    give_second_factor(boss)
    client.force_login(boss)
    url = f"/admin/customers/customer/operazioni/azzera-2fa/?ids={alice.pk}"
    page = client.get(url)
    assert page.status_code == 200
    refused = client.post(url, {"ids": str(alice.pk), "reason": ""})
    assert has_two_factor(alice.user)
    assert refused.status_code == 200
    done = client.post(url, {"ids": str(alice.pk), "reason": "Telefono perso, verificato via PEC"})
    assert done.status_code == 302
    assert not has_two_factor(alice.user)
    event = SecurityEvent.objects.get(kind=SecurityEventKind.TWO_FACTOR_RESET)
    assert (event.user, event.actor) == (alice.user, boss)
    assert event.reason == "Telefono perso, verificato via PEC"
    assert password_step(Client())["Location"] == "/area-clienti/"  # no second step


def test_support_staff_cannot_reset_a_second_factor(client, alice):
    support = staff_user()
    give_second_factor(support)
    client.force_login(support)
    url = f"/admin/customers/customer/operazioni/azzera-2fa/?ids={alice.pk}"
    assert client.get(url).status_code == 403
