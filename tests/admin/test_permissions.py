"""Who may do what in the back office, over every page and operation, GET and POST.

- a customer (not staff) is sent to the admin's login page, always;
- staff with no group is refused (403) everywhere but the admin's home;
- "Supporto" sees everything, changes holders and resends reminders;
- "Amministrazione" also registers transfers, cancels, refunds, extends, updates usage and
  changes the catalogue and its prices.
A refused POST changes nothing.
"""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from addons.models import AddOn, PriceChange, Tier
from billing.models import Invoice, OrderEvent
from mailboxes.models import MailboxEvent
from tests.conftest import give_second_factor

pytestmark = pytest.mark.django_db

ALLOWED, DENIED = "allowed", "denied"


def _op(admin_name: str, slug: str, pk) -> str:
    return reverse(f"admin:{admin_name}_operation", args=[slug]) + f"?ids={pk}"


@pytest.fixture
def objects(mailbox, bank_order, paid_order):
    invoice = Invoice.objects.get(order=paid_order)
    return {
        "mailbox": mailbox,
        "bank_order": bank_order,
        "paid_order": paid_order,
        "invoice": invoice,
        "tier": Tier.objects.get(code="pro"),
        "addon": AddOn.objects.get(code="SMS"),
        "holder": mailbox.holder,
        "customer": mailbox.customer,
    }


# (name, url builder, Supporto, Amministrazione)
PAGES = [
    ("home", lambda o: reverse("admin:index"), ALLOWED, ALLOWED),
    ("dashboard", lambda o: reverse("admin:cruscotto"), ALLOWED, ALLOWED),
    ("mailboxes", lambda o: reverse("admin:mailboxes_mailbox_changelist"), ALLOWED, ALLOWED),
    (
        "mailbox",
        lambda o: reverse("admin:mailboxes_mailbox_change", args=[o["mailbox"].pk]),
        ALLOWED,
        ALLOWED,
    ),
    ("events", lambda o: reverse("admin:mailboxes_mailboxevent_changelist"), ALLOWED, ALLOWED),
    (
        "provisioning",
        lambda o: reverse("admin:mailboxes_provisioningcall_changelist"),
        ALLOWED,
        ALLOWED,
    ),
    ("orders", lambda o: reverse("admin:billing_order_changelist"), ALLOWED, ALLOWED),
    (
        "order",
        lambda o: reverse("admin:billing_order_change", args=[o["paid_order"].pk]),
        ALLOWED,
        ALLOWED,
    ),
    ("order events", lambda o: reverse("admin:billing_orderevent_changelist"), ALLOWED, ALLOWED),
    ("payments", lambda o: reverse("admin:billing_payment_changelist"), ALLOWED, ALLOWED),
    ("invoices", lambda o: reverse("admin:billing_invoice_changelist"), ALLOWED, ALLOWED),
    (
        "invoice",
        lambda o: reverse("admin:billing_invoice_change", args=[o["invoice"].pk]),
        ALLOWED,
        ALLOWED,
    ),
    (
        "invoice pdf",
        lambda o: reverse("admin:billing_invoice_pdf", args=[o["invoice"].pk]),
        ALLOWED,
        ALLOWED,
    ),
    (
        "invoice xml",
        lambda o: reverse("admin:billing_invoice_xml", args=[o["invoice"].pk]),
        ALLOWED,
        ALLOWED,
    ),
    ("customers", lambda o: reverse("admin:customers_customer_changelist"), ALLOWED, ALLOWED),
    ("holders", lambda o: reverse("admin:customers_holder_changelist"), ALLOWED, ALLOWED),
    (
        "holder",
        lambda o: reverse("admin:customers_holder_change", args=[o["holder"].pk]),
        ALLOWED,
        ALLOWED,
    ),
    ("tiers", lambda o: reverse("admin:addons_tier_changelist"), ALLOWED, ALLOWED),
    (
        "tier",
        lambda o: reverse("admin:addons_tier_change", args=[o["tier"].pk]),
        ALLOWED,
        ALLOWED,
    ),
    ("add-ons", lambda o: reverse("admin:addons_addon_changelist"), ALLOWED, ALLOWED),
    ("price history", lambda o: reverse("admin:addons_pricechange_changelist"), ALLOWED, ALLOWED),
    ("add tier", lambda o: reverse("admin:addons_tier_add"), DENIED, ALLOWED),
    # the staff operations
    (
        "cancel mailbox",
        lambda o: _op("mailboxes_mailbox", "annulla", o["mailbox"].pk),
        DENIED,
        ALLOWED,
    ),
    (
        "extend mailbox",
        lambda o: _op("mailboxes_mailbox", "proroga", o["mailbox"].pk),
        DENIED,
        ALLOWED,
    ),
    (
        "change holder",
        lambda o: _op("mailboxes_mailbox", "titolare", o["mailbox"].pk),
        ALLOWED,
        ALLOWED,
    ),
    (
        "resend reminder",
        lambda o: _op("mailboxes_mailbox", "promemoria", o["mailbox"].pk),
        ALLOWED,
        ALLOWED,
    ),
    (
        "usage",
        lambda o: _op("mailboxes_mailbox", "utilizzo", o["mailbox"].pk),
        DENIED,
        ALLOWED,
    ),
    (
        "bank transfer",
        lambda o: _op("billing_order", "bonifico", o["bank_order"].pk),
        DENIED,
        ALLOWED,
    ),
    (
        "cancel order",
        lambda o: _op("billing_order", "annulla", o["bank_order"].pk),
        DENIED,
        ALLOWED,
    ),
    ("refund", lambda o: _op("billing_order", "rimborso", o["paid_order"].pk), DENIED, ALLOWED),
    ("tier price", lambda o: _op("addons_tier", "prezzo", o["tier"].pk), DENIED, ALLOWED),
    ("add-on price", lambda o: _op("addons_addon", "prezzo", o["addon"].pk), DENIED, ALLOWED),
]
PAGE_IDS = [p[0] for p in PAGES]


@pytest.mark.parametrize(("name", "url", "support_may", "accounting_may"), PAGES, ids=PAGE_IDS)
def test_each_group_gets_the_pages_it_may_see(
    name, url, support_may, accounting_may, objects, support, accounting, client
):
    for user, may in ((support, support_may), (accounting, accounting_may)):
        client.force_login(user)
        response = client.get(url(objects))
        expected = 200 if may == ALLOWED else 403
        assert response.status_code == expected, (name, user.username, response.status_code)


@pytest.mark.parametrize(("name", "url", "support_may", "accounting_may"), PAGES, ids=PAGE_IDS)
def test_a_customer_is_sent_to_the_admin_login(
    name, url, support_may, accounting_may, objects, alice, client
):
    client.force_login(alice.user)
    for method in (client.get, client.post):
        response = method(url(objects))
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize(("name", "url", "support_may", "accounting_may"), PAGES, ids=PAGE_IDS)
def test_staff_with_no_group_sees_nothing(
    name, url, support_may, accounting_may, objects, bare_staff, client
):
    client.force_login(bare_staff)
    response = client.get(url(objects))
    assert response.status_code == (200 if name == "home" else 403), name


# (name, url builder, form data builder) of the POSTs Supporto may not make
REFUSED_TO_SUPPORT = [
    (
        "cancel mailbox",
        lambda o: _op("mailboxes_mailbox", "annulla", o["mailbox"].pk),
        {"reason": "prova"},
    ),
    (
        "extend mailbox",
        lambda o: _op("mailboxes_mailbox", "proroga", o["mailbox"].pk),
        {"days": "30", "reason": "prova"},
    ),
    (
        "usage",
        lambda o: _op("mailboxes_mailbox", "utilizzo", o["mailbox"].pk),
        {"mailbox_mb": "1", "archive_mb": "2", "conservation_mb": "3"},
    ),
    (
        "bank transfer",
        lambda o: _op("billing_order", "bonifico", o["bank_order"].pk),
        {
            "amount": "43,68",
            "received_on": timezone.localdate().strftime("%d/%m/%Y"),
            "bank_reference": "CRO-1",
            "reason": "prova",
        },
    ),
    (
        "cancel order",
        lambda o: _op("billing_order", "annulla", o["bank_order"].pk),
        {"reason": "prova"},
    ),
    (
        "refund",
        lambda o: _op("billing_order", "rimborso", o["paid_order"].pk),
        {"net": "", "reason": "prova"},
    ),
    (
        "tier price",
        lambda o: _op("addons_tier", "prezzo", o["tier"].pk),
        {"price": "29,90", "effective_from": "01/01/2099", "reason": "prova"},
    ),
    (
        "edit tier",
        lambda o: reverse("admin:addons_tier_change", args=[o["tier"].pk]),
        {"code": "pro", "name": "Pro Plus", "rank": "2", "is_active": "on"},
    ),
]


def _history_size():
    return (
        MailboxEvent.objects.count(),
        OrderEvent.objects.count(),
        Invoice.objects.count(),
        PriceChange.objects.count(),
        Tier.objects.filter(name="Pro Plus").count(),
    )


@pytest.mark.parametrize(
    ("name", "url", "data"), REFUSED_TO_SUPPORT, ids=[r[0] for r in REFUSED_TO_SUPPORT]
)
def test_a_post_supporto_may_not_make_is_refused_and_changes_nothing(
    name, url, data, objects, support, bare_staff, client
):
    before = _history_size()
    for user in (support, bare_staff):
        client.force_login(user)
        response = client.post(url(objects), data)
        assert response.status_code == 403, (name, user.username)
    assert _history_size() == before


def test_supporto_changes_a_holder_and_resends_a_reminder(
    objects, support, client, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(support)
    mailbox = objects["mailbox"]
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        response = client.post(
            _op("mailboxes_mailbox", "promemoria", mailbox.pk), {"reason": "chiesto al telefono"}
        )
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    holder = objects["holder"]
    response = client.post(
        reverse("admin:customers_holder_change", args=[holder.pk]),
        {
            "first_name": holder.first_name,
            "last_name": holder.last_name,
            "company_name": "",
            "vat_number": "",
            "legal_representative": "",
            "fiscal_code": holder.fiscal_code,
            "street": "Via Nuova 2",
            "postal_code": holder.postal_code,
            "city": holder.city,
            "province": holder.province,
            "email": holder.email,
            "sdi_code": "",
            "invoice_pec": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    holder.refresh_from_db()
    assert holder.street == "Via Nuova 2"


def test_the_changelist_offers_each_group_only_its_actions(objects, support, accounting, client):
    url = reverse("admin:mailboxes_mailbox_changelist")
    client.force_login(support)
    offered = client.get(url).context["action_form"].fields["action"].choices
    assert [name for name, _ in offered if name] == ["change_holder", "resend_reminder"]
    client.force_login(accounting)
    offered = client.get(url).context["action_form"].fields["action"].choices
    assert [name for name, _ in offered if name] == [
        "cancel_selected",
        "extend_selected",
        "change_holder",
        "resend_reminder",
    ]
    client.force_login(support)
    orders = client.get(reverse("admin:billing_order_changelist"))
    assert orders.context["action_form"] is None or not [
        name for name, _ in orders.context["action_form"].fields["action"].choices if name
    ]


def test_an_action_supporto_lacks_does_not_run_from_the_changelist(objects, support, client):
    client.force_login(support)
    mailbox = objects["mailbox"]
    response = client.post(
        reverse("admin:mailboxes_mailbox_changelist"),
        {"action": "cancel_selected", "_selected_action": [mailbox.pk]},
    )
    assert response.status_code in (200, 302)
    assert "operazioni" not in response.get("Location", "")
    mailbox.refresh_from_db()
    assert mailbox.status == "active"


def test_an_action_leads_to_its_page_with_the_selected_rows(objects, accounting, client):
    client.force_login(accounting)
    mailbox = objects["mailbox"]
    response = client.post(
        reverse("admin:mailboxes_mailbox_changelist"),
        {"action": "extend_selected", "_selected_action": [mailbox.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == _op("mailboxes_mailbox", "proroga", mailbox.pk)
    page = client.get(response["Location"])
    assert "Proroga la scadenza" in page.content.decode()
    assert "Motivo" in page.content.decode()


def test_the_groups_hold_the_permissions_of_the_issue():
    support = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name="Supporto").permissions.select_related("content_type")
    }
    accounting = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name="Amministrazione").permissions.select_related(
            "content_type"
        )
    }
    assert {"mailboxes.change_holder", "mailboxes.resend_reminder", "billing.view_invoice"} <= (
        support
    )
    assert not support & {
        "mailboxes.cancel_mailbox",
        "mailboxes.extend_mailbox",
        "billing.register_bank_transfer",
        "billing.refund_order",
        "billing.cancel_order",
        "addons.add_pricechange",
        "addons.change_tier",
    }
    assert support < accounting
    assert {
        "billing.register_bank_transfer",
        "billing.refund_order",
        "billing.cancel_order",
        "mailboxes.cancel_mailbox",
        "mailboxes.extend_mailbox",
        "addons.add_pricechange",
        "addons.change_tier",
    } <= accounting
    # nobody deletes what the history refers to (a login lockout is no history: deleting
    # its access attempts is how staff unlock an account)
    assert not {p for p in accounting if ".delete_" in p} - {
        "addons.delete_tieraddon",
        "axes.delete_accessattempt",
    }


def test_the_invoice_pdf_and_xml_download(objects, support, client):
    client.force_login(support)
    invoice = objects["invoice"]
    pdf = client.get(reverse("admin:billing_invoice_pdf", args=[invoice.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert f"fattura-{invoice.year}-{invoice.number}.pdf" in pdf["Content-Disposition"]
    xml = client.get(reverse("admin:billing_invoice_xml", args=[invoice.pk]))
    assert xml["Content-Type"] == "application/xml"
    assert b"FatturaElettronica" in xml.content


def test_no_one_edits_or_deletes_an_invoice_through_the_admin(objects, accounting, client):
    from django.contrib.auth.models import User

    boss = User.objects.create_superuser("capo", "capo@pecshop.example", "x")
    give_second_factor(boss)
    invoice = objects["invoice"]
    change = reverse("admin:billing_invoice_change", args=[invoice.pk])
    delete = reverse("admin:billing_invoice_delete", args=[invoice.pk])
    for user in (accounting, boss):
        client.force_login(user)
        page = client.get(change)
        assert page.status_code == 200
        assert page.context["has_change_permission"] is False
        assert page.context["has_delete_permission"] is False
        assert 'name="_save"' not in page.content.decode()
        assert client.post(change, {"net": "1.00"}).status_code == 403
        assert client.get(delete).status_code == 403
        assert client.post(delete, {"post": "yes"}).status_code == 403
        response = client.post(
            reverse("admin:billing_invoice_changelist"),
            {"action": "delete_selected", "_selected_action": [invoice.pk], "post": "yes"},
        )
        assert response.status_code in (200, 302)
    invoice.refresh_from_db()
    assert Invoice.objects.filter(pk=invoice.pk, net=invoice.net).exists()
