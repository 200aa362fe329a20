"""Allinea le scadenze in a real browser: three mailboxes to one date, paid by test card."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Order, OrderStatus
from mailboxes.models import AddOnStatus, Mailbox, MailboxStatus
from tests.e2e.test_area_clienti import demo, login  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_three_mailboxes_are_aligned_to_one_date_and_paid(demo, live_server, shoot):  # noqa: F811
    page, flow = demo, "allinea-scadenze"
    login(page, live_server)
    page.get_by_role("link", name="Allinea le scadenze").click()
    page.wait_for_url("**/allinea-scadenze/")
    offered = [
        int(page.locator("input[name=caselle]").nth(n).get_attribute("value"))
        for n in range(page.locator("input[name=caselle]").count())
    ]
    chosen = list(
        Mailbox.objects.filter(
            pk__in=offered,
            customer__user__email="demo@pecshop.example",
            status=MailboxStatus.ACTIVE,
        ).order_by("expires_on")[:3]
    )
    assert len(chosen) == 3
    target = max(m.expires_on for m in chosen) + timedelta(days=40)
    for mailbox in chosen:
        page.check(f"#casella-{mailbox.pk}")
    page.fill("#data", target.isoformat())
    shoot(flow, "01-scelta")
    page.get_by_role("button", name="Calcola il rateo").click()
    table = page.inner_text("#dettaglio")
    for mailbox in chosen:
        assert mailbox.address in table
    shoot(flow, "02-riepilogo")
    page.get_by_role("button", name="Prosegui").click()
    page.wait_for_url("**/paga/")
    page.check("text=Pagamento riuscito")
    page.get_by_role("button", name="Conferma il pagamento").click()
    page.wait_for_url("**/ordini/*/")
    shoot(flow, "03-pagato")
    order = Order.objects.get(customer__user__email="demo@pecshop.example")
    assert order.status == OrderStatus.PAID
    assert order.lines.count() == 3
    for mailbox in chosen:
        mailbox.refresh_from_db()
        assert mailbox.expires_on == target
        assert mailbox.status == MailboxStatus.ACTIVE
        assert not mailbox.addons.exclude(
            status__in=[AddOnStatus.ACTIVE, AddOnStatus.ENDED, AddOnStatus.CANCELLED]
        ).exists()
    assert timezone.localdate() < target
