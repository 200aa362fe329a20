"""The account's holder profiles in the Area Clienti."""

import re

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client

from customers.models import HOLDER_FIELDS, Holder
from tests.area.conftest import TODAY
from tests.conftest import COMPANY

pytestmark = pytest.mark.django_db


def logged(customer_or_user) -> Client:
    client = Client()
    client.force_login(getattr(customer_or_user, "user", customer_or_user))
    return client


def holder_urls(pk: int) -> list[str]:
    return [f"/area-clienti/titolari/{pk}/", f"/area-clienti/titolari/{pk}/elimina/"]


def form_data(holder: Holder, **changes) -> dict:
    """The holder's form as it comes filled in, with `changes` typed over it."""
    return {**{name: getattr(holder, name) for name in HOLDER_FIELDS}, **changes}


@pytest.fixture
def client_holder(alice):
    """A company alice buys for, saved in her account, holding no mailbox yet."""
    from customers.services import holder_create

    return holder_create(customer=alice, **COMPANY)


def test_the_list_shows_the_own_holder_and_the_saved_others(alice, client_holder):
    page = logged(alice).get("/area-clienti/titolari/").content.decode()
    assert "Titolare dell'account" in page and "Alice Rossi" in page
    assert "Altri titolari salvati" in page and "Bianchi S.r.l." in page
    assert "00743110157" in page


def test_a_new_holder_is_validated_by_its_check_digits(alice):
    data = {**COMPANY, "vat_number": "00743110158"}
    response = logged(alice).post("/area-clienti/titolari/nuovo/", data)
    assert response.status_code == 200
    assert "Partita IVA non valida: il carattere di controllo non torna." in (
        response.content.decode()
    )
    assert not alice.holders.filter(company_name="Bianchi S.r.l.").exists()
    response = logged(alice).post("/area-clienti/titolari/nuovo/", COMPANY)
    assert response.status_code == 302
    saved = alice.holders.get(company_name="Bianchi S.r.l.")
    assert saved.vat_number == "00743110157"
    alice.refresh_from_db()
    assert alice.own_holder.last_name == "Rossi"  # the own holder stays


def test_an_account_without_its_own_data_can_give_them(db):
    from customers.services import customer_create

    newcomer = customer_create(email="nuovo@example.it", password="x", validate=False)
    client = logged(newcomer)
    assert "Indica i tuoi dati" in client.get("/area-clienti/titolari/").content.decode()
    form = client.get("/area-clienti/titolari/nuovo/?own=1").content.decode()
    assert re.search(r'<input[^>]*name="own"[^>]*checked', form)  # "Indica i tuoi dati"
    response = client.post("/area-clienti/titolari/nuovo/", {**COMPANY, "own": "on"})
    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.own_holder.company_name == "Bianchi S.r.l."
    assert 'name="own"' not in client.get("/area-clienti/titolari/nuovo/").content.decode()


def test_a_holder_without_mailboxes_may_be_corrected_whole(alice, client_holder):
    data = form_data(client_holder, company_name="Bianchi & Figli S.r.l.", city="Monza")
    data["province"] = "mb"
    response = logged(alice).post(f"/area-clienti/titolari/{client_holder.pk}/", data)
    assert response.status_code == 302
    client_holder.refresh_from_db()
    assert client_holder.company_name == "Bianchi & Figli S.r.l."
    assert (client_holder.city, client_holder.province) == ("Monza", "MB")


def test_a_holder_with_mailboxes_keeps_who_it_is_but_may_move(alice, make_mailbox):
    make_mailbox(address="studio@pec.it")
    own = alice.own_holder
    client = logged(alice)
    form = client.get(f"/area-clienti/titolari/{own.pk}/").content.decode()
    assert "restano come sono" in form
    data = form_data(own, fiscal_code="VRDGPP80A01F205X", last_name="Verdi", street="Via Po 2")
    response = client.post(f"/area-clienti/titolari/{own.pk}/", data)
    assert response.status_code == 302
    own.refresh_from_db()
    assert (own.fiscal_code, own.last_name) == ("RSSMRA85T10A562S", "Rossi")
    assert own.street == "Via Po 2"


def test_the_service_refuses_a_new_identity_for_a_holder_with_mailboxes(alice, make_mailbox):
    from django.core.exceptions import ValidationError

    from customers.services import holder_update

    make_mailbox(address="studio@pec.it")
    with pytest.raises(ValidationError) as refused:
        holder_update(holder=alice.own_holder, fiscal_code="VRDGPP80A01F205X")
    assert "Cambia titolare" in str(refused.value)
    alice.own_holder.refresh_from_db()
    assert alice.own_holder.fiscal_code == "RSSMRA85T10A562S"


def test_a_refused_correction_keeps_the_saved_name_in_the_heading(alice, client_holder):
    data = form_data(client_holder, company_name="Nome Nuovo S.r.l.", vat_number="123")
    response = logged(alice).post(f"/area-clienti/titolari/{client_holder.pk}/", data)
    assert response.status_code == 200
    assert "<h1>Modifica Bianchi S.r.l.</h1>" in response.content.decode()
    client_holder.refresh_from_db()
    assert client_holder.company_name == "Bianchi S.r.l."


def test_bad_contact_data_are_refused_with_a_message(alice):
    own = alice.own_holder
    data = form_data(own, postal_code="1234", province="R1", email="non-una-mail")
    response = logged(alice).post(f"/area-clienti/titolari/{own.pk}/", data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Il CAP ha 5 cifre." in page and "sigla della provincia" in page
    assert "indirizzo email valido" in page
    own.refresh_from_db()
    assert own.postal_code == "00184"


def test_an_unused_saved_holder_can_be_deleted_after_confirmation(alice, client_holder):
    client = logged(alice)
    assert (
        "Elimina"
        in client.get(f"/area-clienti/titolari/{client_holder.pk}/elimina/").content.decode()
    )
    assert Holder.objects.filter(pk=client_holder.pk).exists()
    response = client.post(f"/area-clienti/titolari/{client_holder.pk}/elimina/")
    assert response.status_code == 302
    assert not Holder.objects.filter(pk=client_holder.pk).exists()


def test_the_own_holder_and_a_holder_in_use_are_not_deleted(alice, client_holder, make_mailbox):
    make_mailbox(address="cliente@pec.it", holder=client_holder)
    client = logged(alice)
    for holder, message in (
        (alice.own_holder, "I dati del titolare dell&#x27;account non si eliminano."),
        (client_holder, "Questo titolare ha caselle o ordini e resta nell&#x27;account."),
    ):
        response = client.post(f"/area-clienti/titolari/{holder.pk}/elimina/")
        assert response.status_code == 200
        assert message in response.content.decode()
        assert Holder.objects.filter(pk=holder.pk).exists()


def test_a_holder_billed_on_an_order_is_not_deleted(alice, client_holder, studio, order_for):
    from billing.services.items import ItemSpec
    from billing.services.orders import order_place

    order_place(
        customer=alice,
        items=[ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, studio.pk)],
        payment_method="card",
        placement_key="bill-to-client",
        today=TODAY,
        billing_holder=client_holder,
    )
    response = logged(alice).post(f"/area-clienti/titolari/{client_holder.pk}/elimina/")
    assert response.status_code == 200 and "resta nell" in response.content.decode()
    assert Holder.objects.filter(pk=client_holder.pk).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_customers_holder_is_a_404(alice, bob, charlie, client_holder, method):
    for who in (bob, charlie):
        client = logged(who)
        for url in holder_urls(client_holder.pk):
            assert getattr(client, method)(url).status_code == 404, url
    client_holder.refresh_from_db()
    assert client_holder.company_name == "Bianchi S.r.l."


def test_a_mailbox_credential_session_has_no_holder_pages(alice, studio, client_holder):
    studio.password = make_password("Casella-Sicura-1")
    studio.save(update_fields=["password"])
    client = Client()
    client.post(
        "/area-clienti/accedi-casella/",
        {"address": "studio@pec.it", "password": "Casella-Sicura-1"},
    )
    assert client.get(f"/area-clienti/caselle/{studio.pk}/").status_code == 200
    for url in ["/area-clienti/titolari/", "/area-clienti/titolari/nuovo/"] + holder_urls(
        alice.own_holder.pk
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, form_data(alice.own_holder, city="X")).status_code == 404, url
    alice.own_holder.refresh_from_db()
    assert alice.own_holder.city == "Roma"


def test_anonymous_visitors_are_sent_to_login():
    response = Client().get("/area-clienti/titolari/")
    assert response.status_code == 302 and "/accedi/" in response["Location"]


def test_csrf_is_enforced_on_holder_changes(alice, client_holder):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)
    response = client.post(f"/area-clienti/titolari/{client_holder.pk}/elimina/")
    assert response.status_code == 403
    assert Holder.objects.filter(pk=client_holder.pk).exists()
