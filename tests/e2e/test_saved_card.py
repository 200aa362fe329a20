"""A customer saves a card at checkout, finds it under "Metodi di pagamento", and the
automatic renewal charges it once, 7 days before the expiry (test gateway, real browser)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.models import Order, OrderStatus, Payment, SavedCard
from billing.payments import TestCardOutcomes
from mailboxes.models import Mailbox
from tests.e2e.test_area_clienti import open_mario

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(page):
    call_command("seed_demo", "--today", timezone.localdate().isoformat(), verbosity=0)
    TestCardOutcomes.decline = False
    TestCardOutcomes.authentication_required = False
    TestCardOutcomes.charged = []
    yield page
    TestCardOutcomes.charged = []


def test_a_card_saved_at_checkout_pays_the_automatic_renewal_once(demo, live_server, shoot):
    page, flow = demo, "carta-salvata"
    open_mario(page, live_server, shoot, flow)
    page.get_by_role("link", name="Acquista", exact=True).click()
    page.select_option("#id_addon", "CONSERVAZIONE")
    page.fill("#id_quantity", "1")
    page.get_by_role("button", name="Calcola il prezzo").click()
    page.get_by_role("button", name="Prosegui").click()
    page.wait_for_url("**/paga/")
    page.check("text=Pagamento riuscito")
    page.check("#id_save_card")
    shoot(flow, "03-paga-e-salva-la-carta")
    page.get_by_role("button", name="Conferma il pagamento").click()
    page.wait_for_url("**/ordini/*/")
    assert Order.objects.get().status == OrderStatus.PAID

    page.goto(live_server.url + "/area-clienti/")
    page.get_by_role("link", name="Metodi di pagamento").click()
    page.wait_for_url("**/metodi-di-pagamento/")
    main = page.inner_text("main")
    card = SavedCard.objects.get()
    assert "Visa •••• 4242" in main
    assert card.expires_label in main
    assert "Paga i rinnovi automatici" in main
    shoot(flow, "04-metodi-di-pagamento")

    mario = Mailbox.objects.get(address="mario.rossi@pec.it")
    Mailbox.objects.filter(pk=mario.pk).update(auto_renew=True, cancel_at_expiry=False)
    day = (mario.expires_on - timedelta(days=7)).isoformat()
    call_command("auto_renew", "--today", day)
    call_command("auto_renew", "--today", day)  # run twice: charged once

    renewal = Order.objects.get(placement_key__startswith=f"auto-{mario.pk}-")
    assert renewal.status == OrderStatus.PAID
    assert len(TestCardOutcomes.charged) == 1
    assert Payment.objects.get(order=renewal).saved_card == card
    mario.refresh_from_db()
    assert mario.expires_on > timezone.localdate() + timedelta(days=300)

    page.goto(live_server.url + "/area-clienti/")
    shoot(flow, "05-rinnovata")
