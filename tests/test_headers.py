"""Security headers on every kind of page, with production settings (DEBUG off, HTTPS):
a Content-Security-Policy with no 'unsafe-inline', a Permissions-Policy, and
`Cache-Control: private, no-store` wherever one customer's data is shown. The HTML itself
has no inline script or style for the policy to block."""

import re

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client

from billing.models import Invoice
from mailboxes.models import Mailbox
from tests.billing.test_orders import new_mailbox
from tests.conftest import SecondFactorClient, give_second_factor

pytestmark = pytest.mark.django_db

INLINE_STYLE = re.compile(r"<style[\s>]|\sstyle\s*=", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.ALLOWED_HOSTS = ["shop.example.it"]
    return settings


@pytest.fixture
def shop(alice, order_for, pay, make_mailbox, tiers, addons):
    order = order_for(new_mailbox(alice, local_part="intestazioni"))
    pay(order)
    mailbox = Mailbox.objects.get(address="intestazioni@pec.it")
    Mailbox.objects.filter(pk=mailbox.pk).update(password=make_password("Casella-Segreta-1"))
    return {"order": order, "mailbox": mailbox, "invoice": Invoice.objects.get(order=order)}


def https_client() -> Client:
    return SecondFactorClient(HTTP_HOST="shop.example.it", **{"wsgi.url_scheme": "https"})


def check_common(response, url):
    policy = response.get("Content-Security-Policy", "")
    assert policy, url
    assert "unsafe-inline" not in policy, url
    assert "script-src 'self'" in policy and "style-src 'self'" in policy, url
    assert "frame-ancestors 'none'" in policy, url
    assert "camera=()" in response.get("Permissions-Policy", ""), url
    assert response.status_code < 500, url
    if response.get("Content-Type", "").startswith("text/html"):
        html = response.content.decode()
        assert not INLINE_STYLE.search(html), (url, INLINE_STYLE.search(html).group(0))
        assert not INLINE_SCRIPT.search(html), (url, INLINE_SCRIPT.search(html).group(0))
        assert not INLINE_HANDLER.search(html), url


def check_private(response, url):
    cache_control = response.get("Cache-Control", "")
    assert "private" in cache_control and "no-store" in cache_control, (url, cache_control)


PUBLIC = [
    "/",
    "/configura/pro/",
    "/accedi/",
    "/registrati/",
    "/password/reimposta/",
    "/area-clienti/accedi-casella/",
    "/api/quote?tier=pro&years=1",
    "/api/indirizzo?local_part=prova",
    "/pagina-che-non-esiste/",
    "/admin/login/",
]


def test_public_pages_have_the_policies(production, shop):
    client = https_client()
    for url in PUBLIC:
        response = client.get(url, secure=True)
        check_common(response, url)
        assert response.status_code in (200, 404), url


def test_customer_pages_and_downloads_are_private_and_strict(production, shop, alice):
    client = https_client()
    client.force_login(alice.user)
    mailbox, order, invoice = shop["mailbox"], shop["order"], shop["invoice"]
    urls = [
        "/area-clienti/",
        f"/area-clienti/caselle/{mailbox.pk}/",
        f"/area-clienti/caselle/{mailbox.pk}/rinnova/",
        f"/area-clienti/caselle/{mailbox.pk}/acquista/",
        f"/area-clienti/caselle/{mailbox.pk}/disdetta/",
        "/area-clienti/titolari/",
        "/area-clienti/titolari/nuovo/",
        "/area-clienti/sicurezza/",
        "/area-clienti/sicurezza/attiva/",
        f"/ordini/{order.number}/",
        "/carrello/",
        f"/area-clienti/fatture/{invoice.pk}.pdf",
        f"/area-clienti/fatture/{invoice.pk}.xml",
    ]
    for url in urls:
        response = client.get(url, secure=True)
        assert response.status_code == 200, url
        check_common(response, url)
        check_private(response, url)
    pdf = client.get(f"/area-clienti/fatture/{invoice.pk}.pdf", secure=True)
    assert pdf["Content-Disposition"].startswith("attachment")


def test_a_mailbox_credential_session_is_private_too(production, shop):
    client = https_client()
    client.post(
        "/area-clienti/accedi-casella/",
        {"address": "intestazioni@pec.it", "password": "Casella-Segreta-1"},
        secure=True,
    )
    url = f"/area-clienti/caselle/{shop['mailbox'].pk}/"
    response = client.get(url, secure=True)
    assert response.status_code == 200
    check_common(response, url)
    check_private(response, url)


def test_admin_pages_are_private_and_strict(production, shop, admin_user):
    client = https_client()
    client.force_login(admin_user)
    urls = [
        "/admin/",
        "/admin/billing/order/cruscotto/",
        "/admin/mailboxes/mailbox/",
        f"/admin/mailboxes/mailbox/{shop['mailbox'].pk}/change/",
        "/admin/billing/order/",
        f"/admin/billing/order/{shop['order'].pk}/change/",
        "/admin/billing/invoice/",
        "/admin/customers/customer/",
        "/admin/axes/accessattempt/",
        "/admin/customers/securityevent/",
        f"/admin/mailboxes/mailbox/operazioni/proroga/?ids={shop['mailbox'].pk}",
    ]
    for url in urls:
        response = client.get(url, secure=True)
        assert response.status_code in (200, 404), url
        check_common(response, url)
        check_private(response, url)


def test_plain_http_is_redirected_to_https(production):
    response = Client(HTTP_HOST="shop.example.it").get("/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_the_lockout_page_has_the_policies(production, alice):
    client = https_client()
    for _ in range(11):
        response = client.post(
            "/accedi/", {"username": "alice@example.it", "password": "no"}, secure=True
        )
    assert response.status_code == 429
    check_common(response, "/accedi/ (bloccato)")


def test_staff_second_factor_setup_page_is_strict(production, django_user_model):
    staff = django_user_model.objects.create_user("s", "s@pecshop.example", "x", is_staff=True)
    client = https_client()
    client.force_login(staff)
    response = client.get("/area-clienti/sicurezza/attiva/?next=/admin/", secure=True)
    assert response.status_code == 200
    check_common(response, "setup")
    check_private(response, "setup")
    give_second_factor(staff)
    client.force_login(staff)
    response = client.get("/admin/", secure=True)
    assert response.status_code == 200
    check_common(response, "/admin/")
