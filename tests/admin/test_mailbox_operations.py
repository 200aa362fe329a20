"""The staff operations on a mailbox: each asks for a reason, calls one service and leaves
an event with the staff user and the reason."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from customers.models import Holder
from mailboxes.models import AddOnStatus, EventKind, MailboxStatus, ProvisioningCall
from mailboxes.services import TransitionError, mailbox_change_holder, mailbox_extend
from tests.conftest import COMPANY

pytestmark = pytest.mark.django_db


def op(slug: str, *mailboxes) -> str:
    url = reverse("admin:mailboxes_mailbox_operation", args=[slug])
    return f"{url}?ids={','.join(str(m.pk) for m in mailboxes)}"


def last_event(mailbox):
    return mailbox.events.order_by("-id").first()


def test_every_operation_asks_for_a_reason_first(mailbox, accounting, client):
    client.force_login(accounting)
    for slug in ("annulla", "proroga", "titolare", "promemoria"):
        page = client.get(op(slug, mailbox))
        assert page.status_code == 200
        assert 'name="reason"' in page.content.decode(), slug
        response = client.post(op(slug, mailbox), {"days": "10"})
        assert response.status_code == 200, slug  # the form again, with the error
        assert response.context["form"].errors["reason"]
    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.ACTIVE
    assert mailbox.expires_on == date(2027, 5, 25)


def test_cancelling_a_mailbox_cascades_and_is_audited(mailbox, accounting, client):
    client.force_login(accounting)
    response = client.post(op("annulla", mailbox), {"reason": "disdetta per PEC al 12/11"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:mailboxes_mailbox_change", args=[mailbox.pk])
    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.CANCELLED
    assert set(mailbox.addons.values_list("status", flat=True)) == {AddOnStatus.CANCELLED}
    event = mailbox.events.get(kind=EventKind.STATUS, to_status=MailboxStatus.CANCELLED)
    assert (event.actor, event.reason) == (accounting, "disdetta per PEC al 12/11")
    addon_event = mailbox.events.get(kind=EventKind.ADDON_STATUS, to_status="cancelled")
    assert addon_event.actor == accounting
    assert ProvisioningCall.objects.filter(mailbox=mailbox, action="delete").exists()


def test_cancelling_several_mailboxes_at_once(make_mailbox, accounting, client):
    one, two = make_mailbox("uno@pec.it"), make_mailbox("due@pec.it")
    client.force_login(accounting)
    response = client.post(op("annulla", one, two), {"reason": "chiusura dello studio"})
    assert response["Location"] == reverse("admin:mailboxes_mailbox_changelist")
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.status, two.status) == (MailboxStatus.CANCELLED, MailboxStatus.CANCELLED)


def test_a_cancelled_mailbox_cannot_be_cancelled_again(mailbox, accounting, client):
    client.force_login(accounting)
    client.post(op("annulla", mailbox), {"reason": "prima volta"})
    response = client.post(op("annulla", mailbox), {"reason": "seconda volta"}, follow=True)
    assert "cancellata" in response.content.decode()
    assert mailbox.events.filter(reason="seconda volta").count() == 0


def test_extending_by_days_moves_the_expiry_and_is_audited(mailbox, accounting, client):
    client.force_login(accounting)
    response = client.post(op("proroga", mailbox), {"days": "30", "reason": "disservizio di marzo"})
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.expires_on == date(2027, 6, 24)
    event = last_event(mailbox)
    assert event.kind == EventKind.SETTINGS
    assert event.data == {
        "action": "expiry_extended",
        "from": "2027-05-25",
        "to": "2027-06-24",
        "days": 30,
    }
    assert (event.actor, event.reason) == (accounting, "disservizio di marzo")


def test_extending_to_a_date(mailbox, accounting, client):
    client.force_login(accounting)
    client.post(op("proroga", mailbox), {"new_expiry": "30/06/2027", "reason": "accordo"})
    mailbox.refresh_from_db()
    assert mailbox.expires_on == date(2027, 6, 30)


def test_extending_needs_days_or_a_date_not_both(mailbox, accounting, client):
    client.force_login(accounting)
    response = client.post(
        op("proroga", mailbox), {"days": "3", "new_expiry": "30/06/2027", "reason": "x"}
    )
    assert response.status_code == 200
    assert "uno solo" in response.content.decode()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"new_expiry": date(2027, 5, 25)}, "dopo il 25/05/2027"),
        ({"new_expiry": date(2027, 5, 1)}, "dopo il 25/05/2027"),
        ({"days": 366}, "365 giorni"),
    ],
)
def test_an_extension_goes_forward_and_not_too_far(mailbox, accounting, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        mailbox_extend(mailbox=mailbox, actor=accounting, reason="x", **kwargs)


def test_only_an_active_mailbox_is_extended(mailbox, accounting):
    from mailboxes.services import mailbox_transition

    mailbox_transition(mailbox=mailbox, to_status="expired", today=date(2027, 5, 25))
    with pytest.raises(TransitionError, match="si rinnova"):
        mailbox_extend(mailbox=mailbox, actor=accounting, reason="x", days=10)


def test_changing_the_holder_to_one_of_the_account(mailbox, alice, support, client):
    from customers.services import holder_create

    company = holder_create(customer=alice, **COMPANY)
    client.force_login(support)
    page = client.get(op("titolare", mailbox))
    assert "Bianchi S.r.l." in page.content.decode()
    response = client.post(op("titolare", mailbox), {"holder": company.pk, "reason": "cessione"})
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.holder == company
    event = last_event(mailbox)
    assert event.kind == EventKind.HOLDER_CHANGED
    assert (event.actor, event.reason) == (support, "cessione")
    assert (event.data["from_tax_id"], event.data["to_tax_id"]) == (
        "RSSMRA85T10A562S",
        "00743110157",
    )


def test_changing_the_holder_to_a_new_one_creates_it_in_the_account(
    mailbox, alice, support, client
):
    client.force_login(support)
    data = {f"nuovo-{key}": value for key, value in COMPANY.items()}
    data["nuovo-vat_number"] = "00743110157 "
    data.update({"holder": "", "reason": "nuova società"})
    response = client.post(op("titolare", mailbox), data)
    assert response.status_code == 302, response.context["form"].errors
    mailbox.refresh_from_db()
    assert mailbox.holder.company_name == "Bianchi S.r.l."
    assert mailbox.holder.customer == alice
    assert mailbox.holder.vat_number == "00743110157"
    assert last_event(mailbox).reason == "nuova società"


def test_a_new_holder_with_a_wrong_codice_fiscale_is_refused(mailbox, support, client):
    client.force_login(support)
    data = {f"nuovo-{key}": value for key, value in COMPANY.items()}
    data.update({"nuovo-vat_number": "00743110158", "holder": "", "reason": "x"})
    response = client.post(op("titolare", mailbox), data)
    assert response.status_code == 200
    assert Holder.objects.filter(company_name="Bianchi S.r.l.").count() == 0
    mailbox.refresh_from_db()
    assert mailbox.holder.last_name == "Rossi"


def test_a_holder_of_another_account_is_refused(mailbox, bob, support):
    with pytest.raises(ValidationError, match="stesso account"):
        mailbox_change_holder(mailbox=mailbox, holder=bob.own_holder, actor=support, reason="x")
    page_choices = Holder.objects.filter(customer_id=mailbox.customer_id)
    assert bob.own_holder not in page_choices


def test_a_holder_from_another_account_cannot_be_posted(mailbox, bob, support, client):
    client.force_login(support)
    response = client.post(op("titolare", mailbox), {"holder": bob.own_holder.pk, "reason": "x"})
    assert response.status_code == 200
    assert response.context["form"].errors["holder"]
    mailbox.refresh_from_db()
    assert mailbox.holder != bob.own_holder


def test_resending_the_reminder_mails_the_account_and_is_audited(
    mailbox, support, client, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(support)
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        response = client.post(op("promemoria", mailbox), {"reason": "non l'ha ricevuto"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["alice@example.it"]
    assert "studio@pec.it" in message.subject
    assert "25/05/2027" in message.subject
    assert "25/05/2027" in message.body
    event = last_event(mailbox)
    assert event.data["action"] == "reminder_resent"
    assert event.data["expires_on"] == "2027-05-25"
    assert (event.actor, event.reason) == (support, "non l'ha ricevuto")


def test_the_reminder_of_an_expired_mailbox_speaks_of_the_grace_period(
    mailbox, support, mailoutbox, django_capture_on_commit_callbacks
):
    from mailboxes.services import mailbox_reminder_resend, mailbox_transition

    mailbox_transition(mailbox=mailbox, to_status="expired", today=date(2027, 5, 25))
    with django_capture_on_commit_callbacks(execute=True):
        mailbox_reminder_resend(
            mailbox=mailbox, today=date(2027, 6, 1), actor=support, reason="sollecito"
        )
    assert "scaduta" in mailoutbox[0].subject
    assert "23/08/2027" in mailoutbox[0].body  # 90 days after the expiry


def test_usage_is_updated_through_the_service(mailbox, accounting, client):
    client.force_login(accounting)
    page = client.get(op("utilizzo", mailbox))
    assert page.status_code == 200
    response = client.post(
        op("utilizzo", mailbox), {"mailbox_mb": "1500", "archive_mb": "20", "conservation_mb": "7"}
    )
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.usage_mailbox_mb, mailbox.usage_archive_mb, mailbox.usage_conservation_mb) == (
        1500,
        20,
        7,
    )
    event = last_event(mailbox)
    assert event.kind == EventKind.USAGE
    assert event.actor == accounting


def test_the_mailbox_page_is_read_only_with_the_addons_inline(mailbox, accounting, client):
    client.force_login(accounting)
    page = client.get(reverse("admin:mailboxes_mailbox_change", args=[mailbox.pk]))
    html = page.content.decode()
    assert page.context["has_change_permission"] is False
    assert "Conservazione PEC" in html
    assert 'name="addons-0-DELETE"' not in html
    for label in ("Annulla la casella", "Proroga la scadenza", "Cambia titolare"):
        assert label in html
    assert "Eventi della casella" in html


def test_the_mailbox_page_shows_supporto_only_its_buttons(mailbox, support, client):
    client.force_login(support)
    html = client.get(reverse("admin:mailboxes_mailbox_change", args=[mailbox.pk])).content
    html = html.decode()
    assert "Cambia titolare" in html
    assert "Reinvia il promemoria di scadenza" in html
    assert "Annulla la casella" not in html
    assert "Proroga la scadenza" not in html


def test_the_event_log_finds_a_mailbox_an_order_and_a_staff_user(
    mailbox, accounting, client, alice, order_for
):
    from tests.billing.test_orders import new_mailbox

    client.force_login(accounting)
    client.post(op("proroga", mailbox), {"days": "5", "reason": "cortesia"})
    order = order_for(new_mailbox(alice, local_part="ordinata"))
    url = reverse("admin:mailboxes_mailboxevent_changelist")

    by_mailbox = client.get(url, {"q": "studio@pec.it"}).context["cl"].result_list
    assert {e.mailbox_id for e in by_mailbox} == {mailbox.pk}
    by_order = client.get(url, {"q": order.number}).context["cl"].result_list
    assert {e.mailbox.address for e in by_order} == {"ordinata@pec.it"}
    by_staff = client.get(url, {"q": accounting.username}).context["cl"].result_list
    assert [(e.reason, e.actor_id) for e in by_staff] == [("cortesia", accounting.pk)]
    page = client.get(reverse("admin:mailboxes_mailboxevent_change", args=[by_staff[0].pk]))
    assert page.context["has_change_permission"] is False
    assert page.context["has_delete_permission"] is False


def test_the_expiry_filter_and_the_search(make_mailbox, alice, accounting, client):
    from django.utils import timezone

    today = timezone.localdate()  # the filter's links are relative to today
    soon = make_mailbox("presto@pec.it", activated_on=today - timedelta(days=362), years=1)
    later = make_mailbox("tardi@pec.it", activated_on=today - timedelta(days=100), years=1)
    client.force_login(accounting)
    url = reverse("admin:mailboxes_mailbox_changelist")
    week = client.get(
        url,
        {
            "expires_on__gte": today.isoformat(),
            "expires_on__lt": (today + timedelta(days=7)).isoformat(),
        },
    )
    assert [m.address for m in week.context["cl"].result_list] == [soon.address]
    assert later.address not in week.content.decode()
    for term, expected in [
        ("presto@pec.it", ["presto@pec.it"]),
        ("PRESTO@pec.it", ["presto@pec.it"]),
        ("pres", ["presto@pec.it"]),
        ("tardi@", ["tardi@pec.it"]),
        ("alice@example.it", ["presto@pec.it", "tardi@pec.it"]),
        ("RSSMRA85T10A562S", ["presto@pec.it", "tardi@pec.it"]),
        ("rossi", ["presto@pec.it", "tardi@pec.it"]),
        ("Alice Rossi", ["presto@pec.it", "tardi@pec.it"]),
        ("nessuno@pec.it", []),
    ]:
        found = client.get(url, {"q": term}).context["cl"].result_list
        assert [m.address for m in found] == expected, term
