import re

import pytest
from django.core import mail

pytestmark = pytest.mark.django_db


def test_login_by_email_and_logout(client, alice):
    wrong = client.post("/accedi/", {"username": "alice@example.it", "password": "no"})
    assert "E-mail o password non corretti" in wrong.content.decode()
    ok = client.post("/accedi/", {"username": "ALICE@example.it", "password": "Password-Sicura-1"})
    assert ok.status_code == 302
    assert client.get("/area-clienti/").status_code == 200
    client.post("/esci/")
    assert client.get("/area-clienti/").status_code == 302


def test_signup_refuses_weak_passwords_and_says_nothing_of_existing_accounts(client, alice):
    weak = client.post(
        "/registrati/", {"email": "n@example.it", "password1": "12345678", "password2": "12345678"}
    )
    assert "Controlla i dati inseriti" in weak.content.decode()
    taken = client.post(
        "/registrati/",
        {
            "email": "alice@example.it",
            "password1": "Password-Lunga-9",
            "password2": "Password-Lunga-9",
        },
    )
    assert "Esiste già" not in taken.content.decode()
    assert "Controlla la tua e-mail" in taken.content.decode()


def test_login_redirects_only_to_this_site(client, alice):
    response = client.post(
        "/accedi/?next=https://evil.example/",
        {"username": "alice@example.it", "password": "Password-Sicura-1"},
    )
    assert response["Location"] == "/area-clienti/"


def test_after_login_the_customer_lands_on_the_area_clienti_unless_next_says_otherwise(
    client, alice
):
    credentials = {"username": "alice@example.it", "password": "Password-Sicura-1"}
    assert client.post("/accedi/", credentials)["Location"] == "/area-clienti/"
    client.post("/esci/")
    assert client.post("/accedi/?next=/carrello/", credentials)["Location"] == "/carrello/"


def test_the_password_can_be_reset_by_email(client, alice, django_capture_on_commit_callbacks):
    # The e-mail is written to the outbox and sent after commit.
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/password/reimposta/", {"email": "alice@example.it"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/password/nuova/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert "Scegli una nuova password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Nuova-Password-2026", "new_password2": "Nuova-Password-2026"},
    )
    assert done.status_code == 302
    again = client.post(
        "/accedi/", {"username": "alice@example.it", "password": "Nuova-Password-2026"}
    )
    assert again.status_code == 302


def test_an_unknown_page_answers_in_italian(client):
    response = client.get("/non-esiste/")
    assert response.status_code == 404
    assert "Pagina non trovata" in response.content.decode()
