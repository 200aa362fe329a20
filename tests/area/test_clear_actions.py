"""The Area Clienti says what an action is about: which service an increase grows, the dates
a renewal leads to, a disdetta revoked only on its own, the archive-loss box only when due."""

import re
from datetime import date

import pytest
from django.test import Client

from mailboxes.models import MailboxEvent, MailboxStatus
from mailboxes.services import mailbox_transition

pytestmark = pytest.mark.django_db


def logged(customer) -> Client:
    client = Client()
    client.force_login(customer.user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_aumenta_names_the_service_and_its_current_quantity(alice, make_mailbox):
    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5})
    client = logged(alice)
    form_page = text(client.get(f"/area-clienti/caselle/{mailbox.pk}/aumenta/"))
    assert "Conservazione PEC (ora 5 GB)" in form_page
    preview = client.post(
        f"/area-clienti/caselle/{mailbox.pk}/aumenta/", {"addon": "CONSERVAZIONE", "quantity": "3"}
    )
    page = text(preview)
    assert "Conservazione PEC: ora 5 GB, dopo l'aumento 8 GB (+3 GB)" in page
    assert "Aumento Conservazione PEC da 5 GB a 8 GB (+3 GB)" in page


def test_a_renewal_preview_shows_the_new_expiry(alice, studio):
    preview = logged(alice).post(f"/area-clienti/caselle/{studio.pk}/rinnova/", {"years": "2"})
    assert preview.context["new_expires_on"] == date(2029, 5, 25)
    page = text(preview)
    assert "Scadenza attuale 25/05/2027" in page
    assert "Nuova scadenza 25/05/2029" in page
    assert "tolleranza" not in page


def test_an_expired_mailbox_renewal_preview_shows_the_end_of_the_grace_period(alice, make_mailbox):
    mailbox = make_mailbox(activated_on=date(2025, 11, 20))  # expired on 2026-11-20
    mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.EXPIRED, today=date(2026, 11, 20))
    preview = logged(alice).post(f"/area-clienti/caselle/{mailbox.pk}/rinnova/", {"years": "1"})
    page = text(preview)
    assert "Nuova scadenza 20/11/2027" in page
    assert "si può rinnovare fino al 17/02/2027" in page
    assert "dal 18/02/2027 sarebbe cancellata" in page


def test_switching_on_automatic_renewal_does_not_drop_a_disdetta(alice, studio):
    client = logged(alice)
    client.post(f"/area-clienti/caselle/{studio.pk}/disdetta/", {"when": "expiry", "confirm": "on"})
    page = client.get(f"/area-clienti/caselle/{studio.pk}/").content.decode()
    assert "Revoca disdetta" in page and "Attiva il rinnovo automatico" not in page
    response = client.post(
        f"/area-clienti/caselle/{studio.pk}/rinnovo-automatico/", {"enabled": "1"}, follow=True
    )
    assert "revoca prima la disdetta" in text(response)
    studio.refresh_from_db()
    assert studio.cancel_at_expiry and not studio.auto_renew


def test_revoca_disdetta_asks_for_a_confirmation_and_then_revokes(alice, bob, studio):
    client = logged(alice)
    client.post(f"/area-clienti/caselle/{studio.pk}/disdetta/", {"when": "expiry", "confirm": "on"})
    url = f"/area-clienti/caselle/{studio.pk}/revoca-disdetta/"
    confirm = client.get(url)
    assert "Conferma: revoca la disdetta" in confirm.content.decode()
    studio.refresh_from_db()
    assert studio.cancel_at_expiry  # a GET changes nothing
    assert logged(bob).post(url).status_code == 404
    client.post(url)
    studio.refresh_from_db()
    assert not studio.cancel_at_expiry and not studio.auto_renew
    assert MailboxEvent.objects.filter(
        mailbox=studio, data__cancel_at_expiry=False, reason="disdetta revocata dal cliente"
    ).exists()
    page = client.get(f"/area-clienti/caselle/{studio.pk}/").content.decode()
    assert "Attiva il rinnovo automatico" in page


def test_the_archive_loss_box_is_tied_to_a_downgrade_to_standard(alice, studio):
    client = logged(alice)
    url = f"/area-clienti/caselle/{studio.pk}/rinnova/"
    html = client.get(url).content.decode()
    assert re.search(r'<option value="standard" data-loses-archive="true"', html)
    assert not re.search(r'<option value="premium" data-loses-archive', html)
    assert 'class="field archive-loss"' in html
    # Ticked without a downgrade: nothing is lost, the confirmation is not kept.
    kept = client.post(url, {"years": "1", "to_tier": "pro", "confirm_archive_loss": "on"})
    assert "confirm_archive_loss" not in kept.context["form"].item_params()
    # A downgrade to Standard without the box: the box itself says why.
    refused = client.post(url, {"years": "1", "to_tier": "standard"})
    assert "archivio di sicurezza" in " ".join(
        refused.context["form"].errors["confirm_archive_loss"]
    )
    confirmed = client.post(
        url, {"years": "1", "to_tier": "standard", "confirm_archive_loss": "on"}
    )
    assert "quote" in confirmed.context


def test_a_standard_mailbox_has_no_archive_to_lose(alice, make_mailbox):
    mailbox = make_mailbox(address="base@pec.it", tier="standard")
    html = logged(alice).get(f"/area-clienti/caselle/{mailbox.pk}/rinnova/").content.decode()
    assert "data-loses-archive" not in html


def test_the_reduction_error_writes_the_used_space_with_a_decimal_comma(alice, make_mailbox):
    from mailboxes.services import mailbox_set_usage

    mailbox = make_mailbox(address="piena@pec.it", extras={"CONSERVAZIONE": 5})
    mailbox_set_usage(mailbox=mailbox, mailbox_mb=0, archive_mb=0, conservation_mb=3891, at=None)
    response = logged(alice).post(
        f"/area-clienti/caselle/{mailbox.pk}/riduci/", {"addon": "CONSERVAZIONE", "quantity": "2"}
    )
    page = text(response)
    assert "Lo spazio usato (3,8 GB)" in page
    assert "3.8 GB" not in page


def test_a_bought_sms_notice_is_not_also_called_acquistabile(alice, make_mailbox):
    mailbox = make_mailbox(address="base@pec.it", tier="standard", extras={"SMS": 1})
    html = logged(alice).get(f"/area-clienti/caselle/{mailbox.pk}/").content.decode()
    row = re.search(r"Avviso SMS di ricezione</th>(.*?)</tr>", html, re.S).group(1)
    assert "sì" in row and "attivo" in row
    assert "acquistabile" not in row
