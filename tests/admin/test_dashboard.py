"""The dashboard: what staff look at first, each figure linking to its filtered list."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.dashboard import dashboard_figures, invariant_violations
from billing.models import OrderStatus
from mailboxes.models import AddOnStatus, MailboxAddOn, ProvisioningCall

pytestmark = pytest.mark.django_db


def figures(today=None):
    today = today or timezone.localdate()
    return {f.key: f for f in [*dashboard_figures(today=today), *invariant_violations(today=today)]}


def test_the_home_links_to_the_dashboard(support, client):
    client.force_login(support)
    home = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:cruscotto") in home


def test_the_dashboard_counts_what_needs_attention(
    bank_order, paid_order, make_mailbox, pay, alice, order_for, support, client
):
    from tests.billing.test_orders import new_mailbox

    today = timezone.localdate()
    make_mailbox("in.scadenza@pec.it", activated_on=today - timedelta(days=362))
    ProvisioningCall.objects.create(
        mailbox=make_mailbox("guasta@pec.it"), action="create", status="failed", last_error="503"
    )
    flagged_order = order_for(new_mailbox(alice, local_part="sbagliata"))
    pay(flagged_order, amount=D("1.00"))

    found = figures(today)
    assert found["awaiting"].count == 2  # the bank order and the one paid the wrong amount
    assert found["flagged_payments"].count == 1
    assert found["provisioning_failed"].count == 1
    assert [m.address for m in found["expiring"].rows] == ["in.scadenza@pec.it"]
    assert all(f.count == 0 for f in invariant_violations(today=today))

    client.force_login(support)
    page = client.get(reverse("admin:cruscotto"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Caselle in scadenza nei prossimi 7 giorni" in html
    assert "in.scadenza@pec.it" in html
    assert "?status__exact=failed" in html
    assert "Controlli di coerenza: tutto a posto" in html


def test_the_dashboard_shows_invariant_violations(mailbox, support, client):
    # Both written past the services, as only a bug or a hand-made change could.
    MailboxAddOn.objects.filter(mailbox=mailbox).update(status=AddOnStatus.ACTIVE)
    type(mailbox).objects.filter(pk=mailbox.pk).update(status="expired")
    found = figures()
    assert found["active_addon_off_mailbox"].count == 1
    client.force_login(support)
    html = client.get(reverse("admin:cruscotto")).content.decode()
    assert "Servizi attivi su una casella non attiva" in html
    assert "1 da correggere" in html


def test_a_paid_order_without_invoice_is_a_violation(bank_order):
    type(bank_order).objects.filter(pk=bank_order.pk).update(status=OrderStatus.PAID)
    assert figures()["paid_without_invoice"].count == 1


def test_the_complete_check_of_the_lifecycle_runs_when_asked(mailbox, support, client):
    client.force_login(support)
    url = reverse("admin:cruscotto")
    page = client.get(url)
    assert "Esegui il controllo completo" in page.content.decode()
    assert page.context["full_check"] is None
    page = client.get(url, {"controlli": "completi"})
    assert page.context["full_check"] == []
    assert "nessun problema" in page.content.decode()

    type(mailbox).objects.filter(pk=mailbox.pk).update(status="expired")  # past the services
    page = client.get(url, {"controlli": "completi"})
    assert any("studio@pec.it" in line for line in page.context["full_check"])
    assert "studio@pec.it" in page.content.decode()
