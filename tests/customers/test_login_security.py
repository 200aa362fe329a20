"""Throttled logins with lockout, the staff unlock, the APIs' rate limits, signup confirmed
by e-mail, no account enumeration, and mailbox-credential sessions that end."""

import re
import time
from datetime import date, timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mailboxes.models import Mailbox
from tests.conftest import give_second_factor

pytestmark = pytest.mark.django_db

PASSWORD = "Password-Sicura-1"
LOCKED = "Accesso bloccato temporaneamente"
OTHER_ADDRESS = {"REMOTE_ADDR": "203.0.113.7"}


@pytest.fixture
def studio(make_mailbox):
    mailbox = make_mailbox(address="studio@pec.it", tier="pro", activated_on=date(2026, 5, 25))
    Mailbox.objects.filter(pk=mailbox.pk).update(password=make_password("Casella-Segreta-1"))
    return mailbox


@pytest.fixture
def staff(db, django_user_model):
    user = django_user_model.objects.create_user(
        "sara.supporto", "sara@pecshop.example", "Staff-Password-1", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Supporto"))
    return user


def account_login(client, password, **extra):
    return client.post("/accedi/", {"username": "alice@example.it", "password": password}, **extra)


def mailbox_login(client, password, **extra):
    return client.post(
        "/area-clienti/accedi-casella/",
        {"address": "studio@pec.it", "password": password},
        **extra,
    )


def admin_login(client, password, **extra):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "sara.supporto", "password": password},
        **extra,
    )


LOGINS = {
    "account": (account_login, PASSWORD),
    "mailbox": (mailbox_login, "Casella-Segreta-1"),
    "admin": (admin_login, "Staff-Password-1"),
}


@pytest.mark.parametrize("kind", LOGINS)
def test_the_eleventh_wrong_password_locks_the_login_even_with_the_right_password(
    kind, alice, studio, staff, settings
):
    login, right = LOGINS[kind]
    client = Client()
    for _ in range(10):
        response = login(client, "sbagliata")
        assert response.status_code == 200
        assert LOCKED not in response.content.decode()
    eleventh = login(client, "sbagliata")
    assert eleventh.status_code == 429
    page = eleventh.content.decode()
    assert LOCKED in page
    assert f"per {settings.AXES_COOLOFF_TIME * 60:.0f} minuti" in page
    assert "Hai dimenticato la password?" in page  # what to do

    refused = login(client, right)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "area_mailbox_id" not in client.session

    # Another client address is counted on its own.
    elsewhere = login(Client(), right, **OTHER_ADDRESS)
    assert elsewhere.status_code == 302


def test_the_lockout_ends_after_the_configured_time(alice, settings):
    client = Client()
    for _ in range(11):
        account_login(client, "sbagliata")
    assert account_login(client, PASSWORD).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - timedelta(hours=settings.AXES_COOLOFF_TIME, minutes=1)
    )
    assert account_login(client, PASSWORD).status_code == 302


def test_ten_wrong_passwords_then_the_right_one_log_in(alice):
    client = Client()
    for _ in range(10):
        account_login(client, "sbagliata")
    assert account_login(client, PASSWORD).status_code == 302
    assert not AccessAttempt.objects.exists()  # a success clears the count


def test_a_different_client_address_locks_separately(alice):
    here, there = Client(), Client()
    for _ in range(11):
        account_login(here, "sbagliata")
    for _ in range(10):
        account_login(there, "sbagliata", **OTHER_ADDRESS)
    assert account_login(here, PASSWORD).status_code == 429
    assert account_login(there, PASSWORD, **OTHER_ADDRESS).status_code == 302


def test_the_lockout_is_logged(alice, caplog):
    client = Client()
    with caplog.at_level("WARNING", logger="pecshop.security"):
        for _ in range(11):
            account_login(client, "sbagliata")
    assert any("Login locked out" in r.getMessage() for r in caplog.records)
    attempt = AccessAttempt.objects.get()
    assert attempt.username == "alice@example.it"
    assert attempt.failures_since_start == 11


def test_staff_unlock_an_account_from_the_admin(alice, client):
    for _ in range(11):
        account_login(Client(), "sbagliata")
    assert account_login(Client(), PASSWORD).status_code == 429

    support = User.objects.create_user("sara", "sara@pecshop.example", "x", is_staff=True)
    support.groups.add(Group.objects.get(name="Supporto"))
    give_second_factor(support)
    client.force_login(support)
    attempt = AccessAttempt.objects.get(username="alice@example.it")
    listing = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    assert "alice@example.it" in listing.content.decode()
    response = client.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert account_login(Client(), PASSWORD).status_code == 302


def test_password_reset_requests_are_throttled_and_a_new_password_unlocks(
    alice, django_capture_on_commit_callbacks
):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        for _ in range(10):
            response = client.post("/password/reimposta/", {"email": "alice@example.it"})
            assert response.status_code == 302
        locked = client.post("/password/reimposta/", {"email": "alice@example.it"})
    assert locked.status_code == 429
    assert LOCKED in locked.content.decode()
    assert len(mail.outbox) == 10


def test_a_new_password_chosen_by_e_mail_lifts_the_lockout(
    alice, django_capture_on_commit_callbacks
):
    client = Client()
    for _ in range(11):
        account_login(client, "sbagliata")
    assert account_login(client, PASSWORD).status_code == 429
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/password/reimposta/", {"email": "alice@example.it"}, **OTHER_ADDRESS)
    link = re.search(r"http://testserver(/password/nuova/\S+/)", mail.outbox[-1].body).group(1)
    other = Client()
    form = other.get(link, follow=True)
    done = other.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Nuova-Password-2026", "new_password2": "Nuova-Password-2026"},
    )
    assert done.status_code == 302
    assert account_login(client, "Nuova-Password-2026").status_code == 302


# --- the APIs' rate limits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/api/indirizzo?local_part=studio.bianchi", "/api/quote?tier=pro&years=1"],
)
def test_the_public_apis_answer_429_past_the_limit_per_client_address(url, settings, tiers, addons):
    settings.API_RATE_LIMIT = 5
    client = Client()
    for _ in range(5):
        assert client.get(url).status_code == 200
    refused = client.get(url)
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert "Troppe richieste" in refused.json()["error"]
    assert int(refused["Retry-After"]) > 0
    assert Client().get(url, **OTHER_ADDRESS).status_code == 200


# --- signup confirmed by e-mail, no enumeration --------------------------------------------------


def signup(client, email, next_url=""):
    return client.post(
        f"/registrati/{'?next=' + next_url if next_url else ''}",
        {"email": email, "password1": "Password-Lunga-9", "password2": "Password-Lunga-9"},
    )


def test_signup_confirms_the_address_before_the_account_can_log_in(
    db, django_capture_on_commit_callbacks
):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        response = signup(client, "nuova@example.it", next_url="/area-clienti/")
    assert response.status_code == 200
    assert "Controlla la tua e-mail" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not User.objects.get(username="nuova@example.it").is_active
    refused = client.post(
        "/accedi/", {"username": "nuova@example.it", "password": "Password-Lunga-9"}
    )
    assert refused.status_code == 200

    (message,) = mail.outbox
    link = re.search(r"http://127\.0\.0\.1:8000(/registrati/conferma/\S+)", message.body).group(1)
    confirmed = client.get(link)
    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/area-clienti/"
    assert User.objects.get(username="nuova@example.it").is_active
    assert client.get("/area-clienti/").status_code == 200
    # The link works once.
    assert Client().get(link).status_code == 400


def test_signup_answers_the_same_for_an_existing_address_and_tells_its_owner(
    alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        new = signup(Client(), "nessuno@example.it")
        taken = signup(Client(), "alice@example.it")
    strip = re.compile(r"(nessuno|alice)@example\.it|csrfmiddlewaretoken\" value=\"[^\"]+\"")
    assert new.status_code == taken.status_code == 200
    assert strip.sub("", new.content.decode()) == strip.sub("", taken.content.decode())
    owner_mail = [m for m in mail.outbox if m.to == ["alice@example.it"]]
    assert len(owner_mail) == 1
    assert "ha già un account" in owner_mail[0].body
    assert User.objects.filter(username="alice@example.it").count() == 1
    assert account_login(Client(), PASSWORD).status_code == 302  # unchanged


def test_the_mailbox_login_checks_a_password_even_for_an_unknown_address(studio, monkeypatch):
    import area.forms

    calls = []
    real = area.forms.dummy_password_check
    monkeypatch.setattr(area.forms, "dummy_password_check", lambda p: calls.append(p) or real(p))
    Client().post("/area-clienti/accedi-casella/", {"address": "nessuna@pec.it", "password": "x"})
    assert calls == ["x"]

    def timed(address):
        start = time.perf_counter()
        Client().post(
            "/area-clienti/accedi-casella/", {"address": address, "password": "sbagliata"}
        )
        return time.perf_counter() - start

    known = min(timed("studio@pec.it") for _ in range(3))
    unknown = min(timed("nessuna@pec.it") for _ in range(3))
    assert unknown > known / 3  # the same password hashing work, not a fast path


# --- mailbox-credential sessions end -------------------------------------------------------------


def test_a_mailbox_session_ends_when_the_mailbox_is_cancelled(studio):
    from mailboxes.services import mailbox_cancel

    client = Client()
    mailbox_login(client, "Casella-Segreta-1")
    assert client.get(f"/area-clienti/caselle/{studio.pk}/").status_code == 200
    mailbox_cancel(mailbox=studio, today=date(2026, 12, 1), at_expiry=False)
    response = client.get(f"/area-clienti/caselle/{studio.pk}/")
    assert response.status_code == 302
    assert response["Location"] == "/area-clienti/accedi-casella/"
    assert "area_mailbox_id" not in client.session


def test_a_mailbox_session_ends_when_the_mailbox_password_changes(studio):
    client = Client()
    mailbox_login(client, "Casella-Segreta-1")
    assert client.get(f"/area-clienti/caselle/{studio.pk}/").status_code == 200
    Mailbox.objects.filter(pk=studio.pk).update(password=make_password("Nuova-Casella-2"))
    assert client.get(f"/area-clienti/caselle/{studio.pk}/").status_code == 302
    assert client.get(f"/area-clienti/caselle/{studio.pk}/rinnova/").status_code == 302
