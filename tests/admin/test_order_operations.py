"""The staff operations on orders: bank transfers, cancellations and refunds, each audited
with an OrderEvent carrying the staff user and the reason."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Invoice, InvoiceKind, OrderEvent, OrderStatus, Payment
from billing.services.items import ItemSpec
from billing.services.orders import OrderError
from billing.services.refunds import order_refund
from mailboxes.models import AddOnStatus, Mailbox, MailboxStatus

pytestmark = pytest.mark.django_db


def op(slug: str, *orders) -> str:
    url = reverse("admin:billing_order_operation", args=[slug])
    return f"{url}?ids={','.join(str(o.pk) for o in orders)}"


def transfer(order, reference="CRO-0001", amount=None):
    return {
        "amount": str(order.total if amount is None else amount).replace(".", ","),
        "received_on": timezone.localdate().strftime("%d/%m/%Y"),
        "bank_reference": reference,
        "reason": "Bonifico ricevuto sul conto",
    }


def staff_events(order, kind):
    return list(OrderEvent.objects.filter(order=order, kind=kind).order_by("id"))


def test_a_bank_transfer_fulfils_the_order_and_is_audited(bank_order, accounting, client):
    client.force_login(accounting)
    page = client.get(op("bonifico", bank_order))
    assert page.status_code == 200
    assert page.context["form"]["amount"].value() == bank_order.total
    response = client.post(op("bonifico", bank_order), transfer(bank_order))
    assert response.status_code == 302
    bank_order.refresh_from_db()
    assert bank_order.status == OrderStatus.PAID
    assert Mailbox.objects.get(address="bonifico@pec.it").status == MailboxStatus.ACTIVE
    assert bank_order.invoices.filter(kind=InvoiceKind.INVOICE).count() == 1
    payment = Payment.objects.get(order=bank_order)
    assert (payment.bank_reference, payment.registered_by) == ("CRO-0001", accounting)
    [event] = staff_events(bank_order, "staff_bank_transfer")
    assert (event.actor, event.reason, event.data["outcome"]) == (
        accounting,
        "Bonifico ricevuto sul conto",
        "fulfilled",
    )
    assert OrderEvent.objects.get(order=bank_order, kind="status", to_status="paid").actor == (
        accounting
    )


def test_the_same_transfer_registered_twice_fulfils_the_order_once(bank_order, accounting, client):
    client.force_login(accounting)
    client.post(op("bonifico", bank_order), transfer(bank_order))
    second = client.post(op("bonifico", bank_order), transfer(bank_order), follow=True)
    assert "non è stato evaso una seconda volta" in second.content.decode()
    bank_order.refresh_from_db()
    assert bank_order.status == OrderStatus.PAID
    assert Payment.objects.filter(order=bank_order).count() == 1
    assert Invoice.objects.filter(order=bank_order).count() == 1
    assert OrderEvent.objects.filter(order=bank_order, kind="fulfilled").count() == 1
    mailbox = Mailbox.objects.get(address="bonifico@pec.it")
    assert mailbox.events.filter(to_status="active", kind="status").count() == 1
    outcomes = [e.data["outcome"] for e in staff_events(bank_order, "staff_bank_transfer")]
    assert outcomes == ["fulfilled", "already"]


def test_a_second_transfer_with_another_reference_is_flagged_not_applied(
    bank_order, accounting, client
):
    client.force_login(accounting)
    client.post(op("bonifico", bank_order), transfer(bank_order, "CRO-A"))
    response = client.post(op("bonifico", bank_order), transfer(bank_order, "CRO-B"), follow=True)
    assert "da verificare" in response.content.decode()
    assert Invoice.objects.filter(order=bank_order).count() == 1
    assert Payment.objects.get(bank_reference="CRO-B").needs_review is True


def test_a_wrong_amount_is_flagged_and_the_order_still_awaits(bank_order, accounting, client):
    client.force_login(accounting)
    client.post(op("bonifico", bank_order), transfer(bank_order, amount=D("10.00")))
    bank_order.refresh_from_db()
    assert bank_order.status == OrderStatus.AWAITING_PAYMENT
    assert Payment.objects.get(order=bank_order).needs_review is True


def test_a_transfer_received_tomorrow_is_refused(bank_order, accounting, client):
    client.force_login(accounting)
    data = transfer(bank_order)
    data["received_on"] = (
        timezone.localdate().replace(year=timezone.localdate().year + 1)
    ).strftime("%d/%m/%Y")
    response = client.post(op("bonifico", bank_order), data)
    assert response.status_code == 200
    assert response.context["form"].errors["received_on"]
    assert not Payment.objects.exists()


def test_cancelling_an_unpaid_order_frees_its_addresses_and_is_audited(
    bank_order, accounting, client
):
    client.force_login(accounting)
    response = client.post(op("annulla", bank_order), {"reason": "cliente ha rinunciato"})
    assert response.status_code == 302
    bank_order.refresh_from_db()
    assert bank_order.status == OrderStatus.CANCELLED
    event = OrderEvent.objects.get(order=bank_order, kind="status", to_status="cancelled")
    assert (event.actor, event.reason) == (accounting, "cliente ha rinunciato")
    assert Mailbox.objects.get(address="bonifico@pec.it").status == MailboxStatus.CANCELLED


def test_a_paid_order_cannot_be_cancelled(paid_order, accounting, client):
    client.force_login(accounting)
    response = client.post(op("annulla", paid_order), {"reason": "errore"}, follow=True)
    assert "Si può annullare solo un ordine in attesa di pagamento" in response.content.decode()
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.PAID


def test_a_full_refund_issues_a_credit_note_and_cancels_the_new_mailbox(
    paid_order, accounting, client
):
    client.force_login(accounting)
    page = client.get(op("rimborso", paid_order))
    assert "NON vengono tolti automaticamente" in page.content.decode()
    response = client.post(
        op("rimborso", paid_order), {"net": "", "reason": "recesso entro 14 giorni"}, follow=True
    )
    assert "rimborso totale" in response.content.decode()
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.REFUNDED
    invoice = paid_order.invoices.get(kind=InvoiceKind.INVOICE)
    credit = paid_order.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    assert (credit.credited_invoice, credit.net, credit.total) == (
        invoice,
        invoice.net,
        invoice.total,
    )
    mailbox = Mailbox.objects.get(address="pagata@pec.it")
    assert mailbox.status == MailboxStatus.CANCELLED
    assert mailbox.events.get(to_status="cancelled", kind="status").actor == accounting
    [event] = staff_events(paid_order, "refunded")
    assert (event.actor, event.reason) == (accounting, "recesso entro 14 giorni")
    assert event.data["credit_note"] == credit.display_number
    assert event.data["cancelled_mailboxes"] == ["pagata@pec.it"]
    status_event = OrderEvent.objects.get(order=paid_order, to_status="refunded")
    assert status_event.actor == accounting


def test_a_partial_refund_keeps_the_order_paid_until_all_is_credited(paid_order, accounting):
    invoice = paid_order.invoices.get()
    first = order_refund(
        order=paid_order, actor=accounting, reason="sconto", today=date(2026, 12, 1), net=D("10.00")
    )
    assert (first.full, first.credit_note.net) == (False, D("10.00"))
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.PAID
    assert Mailbox.objects.get(address="pagata@pec.it").status == MailboxStatus.ACTIVE
    with pytest.raises(OrderError, match="al massimo"):
        order_refund(
            order=paid_order, actor=accounting, reason="x", today=date(2026, 12, 1), net=invoice.net
        )
    rest = order_refund(
        order=paid_order, actor=accounting, reason="recesso", today=date(2026, 12, 2)
    )
    assert rest.full is True
    assert rest.credit_note.net == invoice.net - D("10.00")
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.REFUNDED
    assert [e.kind for e in OrderEvent.objects.filter(order=paid_order, actor=accounting)] == [
        "gateway_refunded",
        "refunded",
        "status",
        "gateway_refunded",
        "partially_refunded",
    ]


def test_refunding_an_addon_order_does_not_remove_the_units_and_says_so(
    mailbox, order_for, pay, accounting, client
):
    order = order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, mailbox.pk))
    pay(order)
    client.force_login(accounting)
    response = client.post(op("rimborso", order), {"net": "", "reason": "errore"}, follow=True)
    html = response.content.decode()
    assert "NON tolti automaticamente" in html
    assert "studio@pec.it" in html
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.ACTIVE
    assert mailbox.addons.get(status=AddOnStatus.ACTIVE).quantity == 10
    event = OrderEvent.objects.get(order=order, kind="refunded")
    assert event.data["not_reverted"] == ["servizio aggiuntivo su studio@pec.it"]


def test_an_unpaid_order_cannot_be_refunded(bank_order, accounting):
    with pytest.raises(OrderError, match="pagato"):
        order_refund(order=bank_order, actor=accounting, reason="x", today=date(2026, 12, 1))


def test_a_refund_needs_a_reason(paid_order, accounting, client):
    client.force_login(accounting)
    response = client.post(op("rimborso", paid_order), {"net": "", "reason": "  "})
    assert response.status_code == 200
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.PAID


def test_the_order_page_shows_lines_and_payments_read_only(paid_order, accounting, client):
    client.force_login(accounting)
    page = client.get(reverse("admin:billing_order_change", args=[paid_order.pk]))
    html = page.content.decode()
    assert page.context["has_change_permission"] is False
    assert "Rimborsa con nota di credito" in html
    assert "Registra un bonifico" not in html  # already paid
    assert "Righe (prezzi al momento dell" in html
    for formset in page.context["inline_admin_formsets"]:
        assert formset.has_add_permission is False
        assert formset.has_delete_permission is False


def test_the_order_list_filters_and_search(paid_order, bank_order, support, client):
    client.force_login(support)
    url = reverse("admin:billing_order_changelist")

    def found(**params):
        return [o.number for o in client.get(url, params).context["cl"].result_list]

    assert found(status__exact="paid") == [paid_order.number]
    assert found(payment_method__exact="bank_transfer") == [bank_order.number]
    assert found(placed_on__gte="2026-11-25", placed_on__lt="2026-11-26") == [
        bank_order.number,
        paid_order.number,
    ]
    assert found(q=paid_order.number) == [paid_order.number]
    assert set(found(q="alice@example.it")) == {paid_order.number, bank_order.number}


def test_the_invoice_list_filters_by_year_and_finds_a_number(paid_order, support, client):
    client.force_login(support)
    url = reverse("admin:billing_invoice_changelist")
    invoice = paid_order.invoices.get()
    for params in ({"year": "2026"}, {"q": "2026/1"}, {"q": "1"}, {"q": paid_order.number}):
        listed = client.get(url, params).context["cl"].result_list
        assert [i.pk for i in listed] == [invoice.pk], params
    assert list(client.get(url, {"year": "2025"}).context["cl"].result_list) == []
    assert list(client.get(url, {"q": "2026/2"}).context["cl"].result_list) == []


def test_refunding_an_order_to_verify_needs_no_credit_note(alice, order_for, pay, accounting):
    from mailboxes.services import mailbox_transition
    from tests.billing.test_orders import new_mailbox

    order = order_for(new_mailbox(alice, local_part="contesa"))
    reserved = Mailbox.objects.get(address="contesa@pec.it")
    mailbox_transition(mailbox=reserved, to_status="cancelled", today=date(2026, 11, 25))
    _, outcome = pay(order)
    assert outcome == "attention"
    result = order_refund(order=order, actor=accounting, reason="doppio", today=date(2026, 12, 1))
    assert (result.full, result.credit_note) == (True, None)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert not order.invoices.exists()
    assert OrderEvent.objects.get(order=order, kind="refunded").actor == accounting


def test_a_bank_transfer_refund_stays_a_staff_task_with_the_iban(bank_order, accounting, client):
    from billing.services.payments import bank_transfer_register

    bank_transfer_register(
        order=bank_order,
        amount=bank_order.total,
        received_on=date(2026, 11, 26),
        bank_reference="CRO-RIMBORSO",
        actor=accounting,
    )
    with pytest.raises(OrderError, match="IBAN"):
        order_refund(
            order=bank_order, actor=accounting, reason="x", today=date(2026, 12, 1), iban="IT00"
        )
    result = order_refund(
        order=bank_order,
        actor=accounting,
        reason="recesso",
        today=date(2026, 12, 1),
        iban="IT60 X054 2811 1010 0000 0123 456",
    )
    assert (result.gateway_refund, result.bank_iban) == ("", "IT60X0542811101000000123456")
    event = OrderEvent.objects.get(order=bank_order, kind="bank_refund_due")
    assert event.data["iban"] == "IT60X0542811101000000123456"
    assert event.data["amount"] == str(bank_order.total)


def test_a_card_refund_by_staff_goes_through_the_gateway_with_its_refund_id(
    alice, order_for, pay, accounting
):
    from tests.billing.test_orders import new_mailbox

    order = order_for(new_mailbox(alice, local_part="carta"))
    payment, _ = pay(order)
    result = order_refund(order=order, actor=accounting, reason="recesso", today=date(2026, 12, 1))
    payment.refresh_from_db()
    assert result.gateway_refund.startswith("test-refund-refund-")
    assert (payment.status, payment.refund_reference) == ("refunded", result.gateway_refund)
    assert OrderEvent.objects.get(order=order, kind="gateway_refunded").actor == accounting
