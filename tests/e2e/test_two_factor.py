"""The demo customer switches on two-factor authentication from the Area Clienti, then logs
in with the app's code and, having lost the phone, with a recovery code."""

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_otp import devices_for_user
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL, PASSWORD = "demo@pecshop.example", "DemoPec-2026"


def code_of(device: TOTPDevice, drift: int = 0) -> str:
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift)
    return f"{value:06d}"


def password_step(page, live_server):
    page.goto(live_server.url + "/accedi/")
    page.fill("#id_username", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Accedi").click()


def test_switching_on_two_factor_authentication_from_the_area_clienti(page, live_server, shoot):
    flow = "verifica-due-passaggi"
    call_command("seed_demo", "--today", timezone.localdate().isoformat(), verbosity=0)
    password_step(page, live_server)
    page.goto(live_server.url + "/area-clienti/")
    assert "Proteggi il tuo account" in page.inner_text("main")
    shoot(flow, "01-invito")

    page.get_by_role("link", name="Attiva la verifica in due passaggi").click()
    page.wait_for_url("**/area-clienti/sicurezza/attiva/")
    qr = page.locator("#qr-totp")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    shoot(flow, "02-codice-qr")

    device = TOTPDevice.objects.get(user__username=EMAIL, confirmed=False)
    page.fill("#id_code", code_of(device))
    page.get_by_role("button", name="Verifica e attiva").click()
    page.wait_for_url("**/area-clienti/sicurezza/")
    assert "Verifica in due passaggi attivata" in page.inner_text("main")
    codes = page.locator("#codici-recupero code").all_inner_texts()
    assert len(codes) == 10
    shoot(flow, "03-codici-di-recupero")

    page.goto(live_server.url + "/area-clienti/")
    assert "Proteggi il tuo account" not in page.inner_text("main")

    # Next login: password, then the app's code.
    page.get_by_role("button", name="Esci").click()
    page.wait_for_url(live_server.url + "/")
    password_step(page, live_server)
    page.wait_for_url("**/accedi/verifica/")
    shoot(flow, "04-codice-richiesto")
    page.fill("#id_code", "000000" if code_of(device, 1) != "000000" else "111111")
    page.get_by_role("button", name="Verifica e accedi").click()
    page.wait_for_selector("text=Codice non valido")
    shoot(flow, "05-codice-sbagliato")
    device.refresh_from_db()
    device.throttle_reset()
    page.fill("#id_code", code_of(device, 1))
    page.get_by_role("button", name="Verifica e accedi").click()
    page.wait_for_url("**/area-clienti/")  # a login lands on the Area Clienti
    page.goto(live_server.url + "/area-clienti/")
    assert "Le mie caselle PEC" in page.inner_text("main")

    # Phone lost: a recovery code instead.
    page.get_by_role("button", name="Esci").click()
    page.wait_for_url(live_server.url + "/")
    password_step(page, live_server)
    page.wait_for_url("**/accedi/verifica/")
    # Every code typed is tried on each device, so the codes above also counted as failures
    # of the recovery codes' device, whose throttle may still hold a second or two.
    for other in devices_for_user(device.user):
        other.throttle_reset()
    page.fill("#id_code", codes[0])
    page.get_by_role("button", name="Verifica e accedi").click()
    page.wait_for_url("**/area-clienti/")  # a login lands on the Area Clienti
    page.goto(live_server.url + "/area-clienti/sicurezza/")
    assert "Attiva." in page.inner_text("main")
    shoot(flow, "06-dopo-codice-di-recupero")
