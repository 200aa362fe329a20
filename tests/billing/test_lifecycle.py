"""The daily jobs that touch orders (automatic renewals, unpaid bank transfers), the whole
day in order, the invariants check, and the races between a renewal and the jobs."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from payments import PaymentStatus

from billing.lifecycle import (
    auto_renew,
    cancel_unfulfillable_orders,
    cancel_unpaid_orders,
    invariant_violations,
    run_lifecycle,
)
from billing.models import Invoice, Order, OrderEvent, OrderStatus, Payment
from billing.services.autorenew import autorenew_mailbox
from billing.services.items import ItemSpec
from billing.services.orders import OrderError
from billing.services.payments import payment_start
from mailboxes.models import Mailbox, MailboxEvent, MailboxStatus, ReminderSent
from tests.billing.test_orders import new_mailbox

BOUGHT = date(2026, 11, 25)
EXPIRY = date(2027, 11, 25)  # a mailbox bought and paid on BOUGHT for one year


@pytest.fixture
def bought(alice, order_for, pay):
    """Buy and pay a mailbox by card: active, automatic renewal on."""

    def buy(local_part="studio.rossi", addons=None, method="card", customer=None):
        customer = customer or alice
        order = order_for(
            new_mailbox(customer, local_part=local_part, years=1, addons=addons or {}),
            customer=customer,
            method=method,
            today=BOUGHT,
        )
        if method != "bank_transfer":
            pay(order, paid_on=BOUGHT)
        return Mailbox.objects.get(address=f"{local_part}@pec.it")

    return buy


def state(mailbox):
    mailbox.refresh_from_db()
    return (
        mailbox.status,
        mailbox.expires_on,
        sorted(mailbox.addons.values_list("addon__code", "quantity", "status")),
    )


def on_day(day, capture, **kwargs):
    with capture(execute=True):
        return run_lifecycle(today=day, **kwargs)


# --- unpaid bank transfers ----------------------------------------------------------------


@pytest.mark.django_db
def test_an_unpaid_bank_transfer_order_is_cancelled_after_15_days(
    alice, bought, django_capture_on_commit_callbacks
):
    mailbox = bought("bonifico", method="bank_transfer")
    card = bought("carta")
    order = Order.objects.get(items__mailbox=mailbox)

    with django_capture_on_commit_callbacks(execute=True):
        assert cancel_unpaid_orders(today=BOUGHT + timedelta(days=15)) == {"cancelled": 0}
        assert cancel_unpaid_orders(today=BOUGHT + timedelta(days=16)) == {"cancelled": 1}

    order.refresh_from_db()
    mailbox.refresh_from_db()
    assert (order.status, mailbox.status) == (OrderStatus.CANCELLED, MailboxStatus.CANCELLED)
    assert "bonifico non ricevuto entro 15 giorni" in order.events.get(to_status="cancelled").reason
    assert mail.outbox[-1].subject == f"Ordine {order.number} annullato"
    assert "bonifico non ricevuto entro 15 giorni" in mail.outbox[-1].body
    assert state(card)[0] == MailboxStatus.ACTIVE
    assert cancel_unpaid_orders(today=BOUGHT + timedelta(days=17)) == {"cancelled": 0}


@pytest.mark.django_db
def test_what_staff_write_when_cancelling_stays_out_of_the_customer_s_e_mail(
    alice, bought, django_user_model, django_capture_on_commit_callbacks
):
    from billing.services.orders import order_cancel

    mailbox = bought("bonifico", method="bank_transfer")
    order = Order.objects.get(items__mailbox=mailbox)
    staff = django_user_model.objects.create_user("staff", "staff@example.it", "x")
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(
            order=order, actor=staff, reason="sospetta frode, non contattare", today=BOUGHT
        )
    assert mail.outbox[-1].subject == f"Ordine {order.number} annullato"
    assert "frode" not in mail.outbox[-1].body
    assert "frode" in order.events.get(to_status="cancelled").reason


# --- automatic renewals -------------------------------------------------------------------


@pytest.mark.django_db
def test_an_automatic_renewal_charges_the_saved_card_7_days_before_expiry_once(
    bought, saved_card, django_capture_on_commit_callbacks
):
    mailbox = bought(addons={"CONSERVAZIONE": 5})
    assert mailbox.auto_renew

    with django_capture_on_commit_callbacks(execute=True):
        assert auto_renew(today=EXPIRY - timedelta(days=8)) == {}
        assert auto_renew(today=EXPIRY - timedelta(days=7)) == {"renewed": 1}
        assert auto_renew(today=EXPIRY - timedelta(days=7)) == {}

    assert state(mailbox) == ("active", date(2028, 11, 25), [("CONSERVAZIONE", 5, "active")])
    order = Order.objects.get(placement_key=f"auto-{mailbox.pk}-2027-11-25")
    assert (order.status, order.payment_method, order.placed_on) == (
        OrderStatus.PAID,
        "card",
        EXPIRY - timedelta(days=7),
    )
    assert order.total == Invoice.objects.get(order=order).total
    assert [line.code for line in order.lines.all()] == ["pro", "CONSERVAZIONE"]
    assert len(saved_card.charged) == 1


@pytest.mark.django_db
def test_a_declined_renewal_stays_awaiting_mails_once_a_day_and_is_retried_until_expiry(
    bought, saved_card, django_capture_on_commit_callbacks
):
    mailbox = bought(addons={"CONSERVAZIONE": 5})
    saved_card.decline = True
    failures = []
    for days_left in range(7, -1, -1):
        day = EXPIRY - timedelta(days=days_left)
        with django_capture_on_commit_callbacks(execute=True):
            failures.append(auto_renew(today=day))
            assert auto_renew(today=day) in ({"done": 1}, {})  # a second run: no new charge

    assert failures == [{"failed": 1}] * 8  # 7 days before, ..., the expiry day itself
    order = Order.objects.get(placement_key=f"auto-{mailbox.pk}-2027-11-25")
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert Order.objects.filter(items__mailbox=mailbox).count() == 2  # the purchase and this
    assert Payment.objects.filter(order=order, status=PaymentStatus.REJECTED).count() == 8
    failed = [m for m in mail.outbox if m.subject.startswith("Rinnovo automatico non riuscito")]
    assert len(failed) == 8
    assert f"/ordini/{order.number}/paga/" in failed[0].body

    with django_capture_on_commit_callbacks(execute=True):
        run_lifecycle(today=EXPIRY)
        assert auto_renew(today=EXPIRY + timedelta(days=1)) == {}  # expired: no more tries
    assert state(mailbox)[0] == "expired"


@pytest.mark.django_db
def test_a_renewal_left_unpaid_is_cancelled_with_the_mailbox_at_the_end_of_grace(
    bought, saved_card, django_capture_on_commit_callbacks
):
    mailbox = bought()
    saved_card.decline = True
    with django_capture_on_commit_callbacks(execute=True):
        auto_renew(today=EXPIRY - timedelta(days=7))
    order = Order.objects.get(placement_key=f"auto-{mailbox.pk}-2027-11-25")
    # Expired, the mailbox can still be renewed: the order stays payable.
    on_day(EXPIRY, django_capture_on_commit_callbacks)
    assert cancel_unfulfillable_orders(today=EXPIRY) == {"cancelled": 0}
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT

    grace_end = EXPIRY + timedelta(days=90)
    results = {
        name: counts for name, counts, _ in on_day(grace_end, django_capture_on_commit_callbacks)
    }
    assert results["end_grace"] == {"cancelled": 1}
    assert results["cancel_unfulfillable_orders"] == {"cancelled": 1}
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert "scaduta o cancellata" in order.events.get(to_status="cancelled").reason
    body = mail.outbox[-1].body
    assert mail.outbox[-1].subject == f"Ordine {order.number} annullato"
    assert f"la casella {mailbox.address} non può più ricevere" in body
    assert "indirizzi" not in body
    assert cancel_unfulfillable_orders(today=grace_end) == {"cancelled": 0}


def test_the_reason_names_one_mailbox_or_several():
    from billing.lifecycle import _reason_mailbox_gone

    assert _reason_mailbox_gone(["a@pec.it"]) == (
        "la casella a@pec.it non può più ricevere quanto ordinato (scaduta o cancellata)"
    )
    assert _reason_mailbox_gone(["a@pec.it", "b@pec.it"]) == (
        "le caselle a@pec.it, b@pec.it non possono più ricevere quanto ordinato "
        "(scadute o cancellate)"
    )


@pytest.mark.django_db
def test_an_addon_order_unpaid_when_the_mailbox_expires_is_cancelled(
    bought, order_for, django_capture_on_commit_callbacks
):
    mailbox = bought()
    Mailbox.objects.filter(pk=mailbox.pk).update(auto_renew=False)
    addon = order_for(
        ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, mailbox.pk),
        method="bank_transfer",
        today=EXPIRY - timedelta(days=5),
    )
    renewal = order_for(
        ItemSpec("renewal", {"years": 1}, mailbox.pk),
        method="bank_transfer",
        today=EXPIRY - timedelta(days=5),
    )
    assert cancel_unfulfillable_orders(today=EXPIRY - timedelta(days=1)) == {"cancelled": 0}
    on_day(EXPIRY, django_capture_on_commit_callbacks)
    addon.refresh_from_db()
    renewal.refresh_from_db()
    assert (addon.status, renewal.status) == (OrderStatus.CANCELLED, OrderStatus.AWAITING_PAYMENT)


@pytest.mark.django_db
def test_a_declined_renewal_succeeds_on_a_later_day(
    bought, saved_card, django_capture_on_commit_callbacks
):
    mailbox = bought()
    saved_card.decline = True
    with django_capture_on_commit_callbacks(execute=True):
        assert auto_renew(today=EXPIRY - timedelta(days=7)) == {"failed": 1}
    saved_card.decline = False
    with django_capture_on_commit_callbacks(execute=True):
        assert auto_renew(today=EXPIRY - timedelta(days=6)) == {"renewed": 1}
        assert auto_renew(today=EXPIRY - timedelta(days=5)) == {}
    assert state(mailbox)[:2] == ("active", date(2028, 11, 25))
    assert Order.objects.filter(placement_key__startswith="auto-").count() == 1


@pytest.mark.django_db
def test_a_renewal_attempt_cut_short_is_resumed_with_the_same_payment(
    bought, saved_card, django_capture_on_commit_callbacks
):
    """A run died after recording the day's attempt, before the gateway answered: the rerun
    charges that payment (the gateway's idempotency key), never a second one."""
    mailbox = bought()
    day = EXPIRY - timedelta(days=7)
    from billing.services.autorenew import _attempt_of_the_day, autorenew_order

    payment = _attempt_of_the_day(autorenew_order(mailbox=mailbox, today=day), day)

    with django_capture_on_commit_callbacks(execute=True):
        assert autorenew_mailbox(mailbox_id=mailbox.pk, today=day) == "renewed"
    assert saved_card.charged == [payment.pk]
    assert Payment.objects.filter(order__placement_key__startswith="auto-").count() == 1


@pytest.mark.django_db
def test_no_automatic_renewal_when_it_is_off_or_a_disdetta_is_given(bought, saved_card):
    from mailboxes.services import mailbox_cancel

    off = bought("spento")
    Mailbox.objects.filter(pk=off.pk).update(auto_renew=False)
    leaving = bought("disdetta")
    mailbox_cancel(mailbox=leaving, today=BOUGHT + timedelta(days=30), at_expiry=True)
    transfer = bought("bonifico", method="bank_transfer")

    assert auto_renew(today=EXPIRY - timedelta(days=7)) == {}
    assert not Order.objects.filter(placement_key__startswith="auto-").exists()
    assert state(transfer)[0] == MailboxStatus.PENDING


@pytest.mark.django_db
def test_a_customer_who_cancels_the_renewal_order_is_not_charged_again(
    alice, bought, saved_card, django_capture_on_commit_callbacks
):
    from billing.services.orders import order_cancel

    mailbox = bought()
    saved_card.decline = True
    with django_capture_on_commit_callbacks(execute=True):
        auto_renew(today=EXPIRY - timedelta(days=7))
    order_cancel(
        order=Order.objects.get(placement_key__startswith="auto-"), today=EXPIRY - timedelta(days=6)
    )
    assert auto_renew(today=EXPIRY - timedelta(days=5)) == {"done": 1}
    assert Payment.objects.filter(order__placement_key__startswith="auto-").count() == 1
    assert state(mailbox)[0] == "active"


# --- the whole day ------------------------------------------------------------------------


@pytest.mark.django_db
def test_run_lifecycle_runs_every_step_in_order_and_a_rerun_changes_nothing(
    bought, saved_card, capsys, django_capture_on_commit_callbacks
):
    expiring = bought("scade", addons={"CONSERVAZIONE": 5})
    Mailbox.objects.filter(pk=expiring.pk).update(auto_renew=False)
    renewing = bought("rinnova")
    Mailbox.objects.filter(pk=renewing.pk).update(expires_on=EXPIRY + timedelta(days=7))
    bought("bonifico", method="bank_transfer")

    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_lifecycle", "--today", EXPIRY.isoformat())
    out = capsys.readouterr().out
    steps = [line.split()[1].rstrip(":") for line in out.splitlines()]
    assert steps == [
        "apply_term_changes",
        "auto_renew",
        "card_expiry_notices",
        "expire_mailboxes",
        "end_grace",
        "cancel_unpaid_orders",
        "cancel_unfulfillable_orders",
        "reminders",
        "send_reminders",
        "usage_alerts",
        "send_usage_alerts",
        "retry_provisioning",
    ]
    assert "expire_mailboxes: expired 1, cancelled 0" in out
    assert "auto_renew: renewed 1" in out
    assert "cancel_unpaid_orders: cancelled 1" in out
    assert state(expiring)[0] == "expired"
    assert state(renewing)[:2] == ("active", date(2028, 12, 2))

    counts = (
        MailboxEvent.objects.count(),
        OrderEvent.objects.count(),
        Order.objects.count(),
        ReminderSent.objects.count(),
        len(mail.outbox),
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_lifecycle", "--today", EXPIRY.isoformat())
    assert (
        MailboxEvent.objects.count(),
        OrderEvent.objects.count(),
        Order.objects.count(),
        ReminderSent.objects.count(),
        len(mail.outbox),
    ) == counts
    call_command("check_invariants", "--today", EXPIRY.isoformat())


@pytest.mark.django_db
def test_the_beat_runs_the_whole_day_from_one_task(settings):
    from billing.tasks import run_lifecycle_day

    entry = settings.CELERY_BEAT_SCHEDULE["lifecycle-day"]
    assert entry["task"] == run_lifecycle_day.name
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({4}, {0})
    assert settings.CELERY_TIMEZONE == "Europe/Rome"
    steps = run_lifecycle_day.delay("2027-11-25").get()
    assert [name for name, _ in steps][0] == "apply_term_changes"


# --- invariants ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_check_invariants_reports_unfulfilled_orders_loose_payments_and_invoice_gaps(
    alice, bought, order_for, capsys
):
    bought("uno")
    bought("due")
    assert invariant_violations() == []

    paid = Order.objects.filter(status=OrderStatus.PAID).first()
    awaiting = order_for(new_mailbox(alice, local_part="tre"))
    loose = payment_start(order=awaiting)
    Payment.objects.filter(pk=loose.pk).update(status=PaymentStatus.CONFIRMED)
    # Damage only a database superuser can do: PostgreSQL itself keeps history append-only.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        OrderEvent.objects.filter(order=paid, kind="fulfilled").delete()
        Invoice.objects.filter(year=2026, number=2).update(number=4)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")

    with pytest.raises(CommandError, match="3 violazioni"):
        call_command("check_invariants")
    errors = capsys.readouterr().err.splitlines()
    assert errors == [
        f"ordine pagato ma non evaso: {paid.number}",
        f"pagamento confermato, non applicato e non segnalato: pagamento {loose.pk} "
        f"dell'ordine {awaiting.number}",
        "numerazione delle fatture 2026: mancano 2, 3",
    ]


# --- a whole life -------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_mailbox_through_a_whole_life(
    alice, bob, order_for, pay, saved_card, django_capture_on_commit_callbacks
):
    """Bought; an add-on mid-term; reminders; the automatic renewal declined, then paid by
    hand; expired; renewed in grace dropping an add-on; expired again; cancelled after 90
    days; the address bought again by its holder's codice fiscale and refused to another."""
    capture = django_capture_on_commit_callbacks
    log = []

    def live(*days):
        for day in days:
            start = len(mail.outbox)
            on_day(day, capture)
            on_day(day, capture)  # every day's job may run twice
            assert invariant_violations(today=day) == []
            log.extend((day, m.subject) for m in mail.outbox[start:])

    def around(day):
        return [day - timedelta(days=1), day, day + timedelta(days=1)]

    def mails(start, end):
        return [subject for day, subject in log if start <= day <= end]

    with capture(execute=True):
        order = order_for(new_mailbox(alice, years=1, addons={"CONSERVAZIONE": 5}), today=BOUGHT)
        pay(order, paid_on=BOUGHT)
    mailbox = Mailbox.objects.get(address="studio.rossi@pec.it")
    assert state(mailbox) == ("active", EXPIRY, [("CONSERVAZIONE", 5, "active")])

    # Mid-term, an add-on for the months left.
    mid = date(2027, 5, 25)
    live(mid)
    with capture(execute=True):
        addon = order_for(ItemSpec("addon", {"add": {"SPAZIO": 2}}, mailbox.pk), today=mid)
        pay(addon, paid_on=mid)
    assert [(line.code, line.months) for line in addon.lines.all()] == [("SPAZIO", 6)]

    # Reminders before the expiry; the renewal is declined 7 and 6 days before, and paid by
    # hand 5 days before: no reminder of the old expiry after that.
    for days in (90, 60, 30, 15):
        live(*around(EXPIRY - timedelta(days=days)))
    saved_card.decline = True
    live(EXPIRY - timedelta(days=7), EXPIRY - timedelta(days=6))
    renewal = Order.objects.get(placement_key=f"auto-{mailbox.pk}-{EXPIRY}")
    assert renewal.status == OrderStatus.AWAITING_PAYMENT
    with capture(execute=True):
        pay(renewal, paid_on=EXPIRY - timedelta(days=5))
    live(*[EXPIRY - timedelta(days=d) for d in range(5, -2, -1)])
    second = date(2028, 11, 25)
    assert state(mailbox) == (
        "active",
        second,
        [("CONSERVAZIONE", 5, "active"), ("SPAZIO", 2, "active")],
    )
    assert mails(BOUGHT, EXPIRY + timedelta(days=1)) == [
        "La casella PEC studio.rossi@pec.it scade il 25/11/2027",  # 90 days
        "La casella PEC studio.rossi@pec.it scade il 25/11/2027",  # 60
        "La casella PEC studio.rossi@pec.it scade il 25/11/2027",  # 30
        "La casella PEC studio.rossi@pec.it scade il 25/11/2027",  # 15
        # 7 days before: the reminder is still true (sent by the job), then the renewal
        # order's e-mails, queued after commit
        "La casella PEC studio.rossi@pec.it scade il 25/11/2027",
        f"Ordine {renewal.number} ricevuto",
        "Rinnovo automatico non riuscito: studio.rossi@pec.it",
        "Rinnovo automatico non riuscito: studio.rossi@pec.it",  # once the next day too
    ]

    # The customer switches the automatic renewal off: the second term ends in expiry.
    Mailbox.objects.filter(pk=mailbox.pk).update(auto_renew=False)
    live(*around(second - timedelta(days=7)), *around(second))
    assert state(mailbox) == (
        "expired",
        second,
        [("CONSERVAZIONE", 5, "expired"), ("SPAZIO", 2, "expired")],
    )
    assert mails(second, second) == ["La casella PEC studio.rossi@pec.it è scaduta"]

    # Renewed in grace without Spazio: active again with the add-on it kept.
    in_grace = second + timedelta(days=10)
    with capture(execute=True):
        grace = order_for(
            ItemSpec("renewal", {"years": 1, "keep": {"SPAZIO": 0}}, mailbox.pk), today=in_grace
        )
        pay(grace, paid_on=in_grace)
    third = date(2029, 11, 25)
    assert state(mailbox) == (
        "active",
        third,
        [("CONSERVAZIONE", 5, "active"), ("SPAZIO", 2, "ended")],
    )
    live(*around(second + timedelta(days=30)))
    assert mails(second + timedelta(days=1), second + timedelta(days=31)) == []

    # Expired again, reminded through the grace period, cancelled after 90 days.
    live(*around(third))
    for days in (30, 60, 83, 89):
        live(third + timedelta(days=days))
    live(*around(third + timedelta(days=90)))
    assert state(mailbox) == (
        "cancelled",
        third,
        [("CONSERVAZIONE", 5, "cancelled"), ("SPAZIO", 2, "ended")],
    )
    assert mails(third, third + timedelta(days=91)) == [
        "La casella PEC studio.rossi@pec.it è scaduta",
        "La casella PEC studio.rossi@pec.it è scaduta: rinnovala entro il 22/02/2030",
        "La casella PEC studio.rossi@pec.it è scaduta: rinnovala entro il 22/02/2030",
        "La casella PEC studio.rossi@pec.it è scaduta: rinnovala entro il 22/02/2030",
        "La casella PEC studio.rossi@pec.it è scaduta: rinnovala entro il 22/02/2030",
    ]
    kinds = list(
        ReminderSent.objects.filter(mailbox=mailbox)
        .order_by("due_on")
        .values_list("expires_on", "kind")
    )
    # 90/60/30/15/7 days; 7 and 1 days and the expiry; 1 day and the 5 of the grace period
    assert len(kinds) == len(set(kinds)) == 5 + 3 + 6

    # The address again: refused to another codice fiscale, sold to the same one.
    later = third + timedelta(days=100)
    with pytest.raises(OrderError, match="precedente titolare"):
        order_for(new_mailbox(bob), customer=bob, today=later)
    with capture(execute=True):
        again = order_for(new_mailbox(alice, years=1), today=later)
        pay(again, paid_on=later)
    reborn = Mailbox.objects.get(address="studio.rossi@pec.it", status=MailboxStatus.ACTIVE)
    assert reborn.pk != mailbox.pk
    assert invariant_violations(today=later) == []


# --- a renewal paid while the jobs run (PostgreSQL row locks, in CI) ----------------------

race = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def postgres_only():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks are only meaningful on PostgreSQL (CI runs this there)")


def in_thread(function):
    import threading

    from django.db import connections

    result = {}

    def run():
        try:
            result["value"] = function()
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            result["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def outcome_of(thread, result):
    thread.join(30)
    assert not thread.is_alive()
    if "error" in result:
        raise result["error"]
    return result["value"]


def confirmed(order):
    payment = payment_start(order=order)
    payment.transaction_id = f"race-{payment.token}"
    payment.captured_amount = order.total
    payment.status = PaymentStatus.CONFIRMED
    payment.save()
    return payment


def renewal_awaiting(mailbox, order_for, today, **params):
    Mailbox.objects.filter(pk=mailbox.pk).update(auto_renew=False)
    order = order_for(ItemSpec("renewal", {"years": 1, **params}, mailbox.pk), today=today)
    return confirmed(order)


def slow_batches(seconds=0.5):
    """Keep each batch's transaction (and its row locks) open a little after its work."""
    import threading
    import time
    from unittest import mock

    from mailboxes import lifecycle

    real = lifecycle._move_batch
    started = threading.Event()

    def move(**kwargs):
        moved = real(**kwargs)
        if moved:
            started.set()
            time.sleep(seconds)
        return moved

    return mock.patch.object(lifecycle, "_move_batch", side_effect=move), started


@pytest.mark.usefixtures("postgres_only")
@race[0]
@race[1]
def test_a_renewal_that_locks_the_mailbox_first_keeps_it_from_expiring(
    bought, order_for, saved_card
):
    import threading
    import time

    from django.db import transaction

    from billing.services.payments import payment_apply
    from mailboxes.lifecycle import expire_mailboxes

    mailbox = bought(addons={"CONSERVAZIONE": 5})
    payment = renewal_awaiting(mailbox, order_for, EXPIRY - timedelta(days=2))
    locked = threading.Event()

    def renew():
        with transaction.atomic():
            Mailbox.objects.select_for_update().get(pk=mailbox.pk)
            locked.set()
            time.sleep(0.5)  # the job starts meanwhile and must wait for this lock
            return payment_apply(payment_id=payment.pk, paid_on=EXPIRY)

    thread = in_thread(renew)
    assert locked.wait(10)
    counts = expire_mailboxes(today=EXPIRY)

    assert outcome_of(*thread) == "fulfilled"
    assert counts == {"expired": 0, "cancelled": 0}
    assert state(mailbox) == ("active", date(2028, 11, 25), [("CONSERVAZIONE", 5, "active")])
    assert not MailboxEvent.objects.filter(mailbox=mailbox, to_status="expired").exists()
    assert invariant_violations(today=EXPIRY) == []


@pytest.mark.usefixtures("postgres_only")
@race[0]
@race[1]
def test_a_renewal_paid_while_the_job_holds_the_mailbox_reactivates_it_after(
    bought, order_for, saved_card
):
    from billing.services.payments import payment_apply
    from mailboxes.lifecycle import expire_mailboxes

    mailbox = bought(addons={"CONSERVAZIONE": 5})
    payment = renewal_awaiting(mailbox, order_for, EXPIRY - timedelta(days=2))
    patch, in_batch = slow_batches()

    with patch:
        thread = in_thread(lambda: expire_mailboxes(today=EXPIRY))
        assert in_batch.wait(10)
        outcome = payment_apply(payment_id=payment.pk, paid_on=EXPIRY)  # waits for the batch

    assert outcome_of(*thread) == {"expired": 1, "cancelled": 0}
    assert outcome == "fulfilled"
    assert state(mailbox) == ("active", date(2028, 11, 25), [("CONSERVAZIONE", 5, "active")])
    moves = MailboxEvent.objects.filter(mailbox=mailbox, kind="status").order_by("pk")
    assert [(e.from_status, e.to_status) for e in moves][-2:] == [
        ("active", "expired"),
        ("expired", "active"),
    ]
    assert invariant_violations(today=EXPIRY) == []


@pytest.mark.usefixtures("postgres_only")
@race[0]
@race[1]
def test_a_renewal_paid_in_grace_during_the_day_reactivates_the_mailbox_and_kept_addons(
    bought, order_for, saved_card, django_capture_on_commit_callbacks
):
    from billing.services.payments import payment_apply
    from mailboxes.lifecycle import expire_mailboxes

    mailbox = bought(addons={"CONSERVAZIONE": 5, "SPAZIO": 2})
    Mailbox.objects.filter(pk=mailbox.pk).update(auto_renew=False)
    expire_mailboxes(today=EXPIRY)
    day = EXPIRY + timedelta(days=30)  # the day of a grace reminder
    payment = renewal_awaiting(mailbox, order_for, day, keep={"SPAZIO": 0})

    thread = in_thread(lambda: run_lifecycle(today=day, batch_size=1))
    outcome = payment_apply(payment_id=payment.pk, paid_on=day)
    outcome_of(*thread)

    assert outcome == "fulfilled"
    assert state(mailbox) == (
        "active",
        date(2028, 11, 25),
        [("CONSERVAZIONE", 5, "active"), ("SPAZIO", 2, "ended")],
    )
    run_lifecycle(today=day)
    assert state(mailbox)[0] == "active"
    assert invariant_violations(today=day) == []


@pytest.mark.usefixtures("postgres_only")
@race[0]
@race[1]
def test_renewals_paid_at_once_with_a_batched_expiry_all_end_active_the_rest_expired(
    alice, bought, order_for, saved_card
):
    import threading

    from billing.services.payments import payment_apply
    from mailboxes.lifecycle import expire_mailboxes

    boxes = [bought(f"folla{n:02d}", addons={"CONSERVAZIONE": 1}) for n in range(12)]
    payments = [renewal_awaiting(m, order_for, EXPIRY - timedelta(days=1)) for m in boxes[::2]]
    Mailbox.objects.filter(pk__in=[m.pk for m in boxes]).update(auto_renew=False)
    patch, _ = slow_batches(0.05)
    go = threading.Barrier(2)

    def job():
        go.wait(10)
        return expire_mailboxes(today=EXPIRY, batch_size=2)

    with patch:
        thread = in_thread(job)
        go.wait(10)
        outcomes = [payment_apply(payment_id=p.pk, paid_on=EXPIRY) for p in payments]
        counts = outcome_of(*thread)

    assert outcomes == ["fulfilled"] * 6
    assert [state(m)[:2] for m in boxes] == [
        ("active", date(2028, 11, 25)) if n % 2 == 0 else ("expired", EXPIRY) for n in range(12)
    ]
    assert 6 <= counts["expired"] <= 12  # some renewals won the lock, some came after
    assert invariant_violations(today=EXPIRY) == []
    for mailbox in boxes:
        expiries = MailboxEvent.objects.filter(mailbox=mailbox, to_status="expired", kind="status")
        assert expiries.count() <= 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("card_expiry", "days_before_charge", "noticed"),
    [
        ((10, 2027), 30, 1),  # expires in October, the charge is on 18/11/2027
        ((10, 2027), 31, 0),  # too early: 31 days before the charge
        ((10, 2027), 1, 1),  # the job missed earlier days: still before the charge
        ((11, 2027), 30, 0),  # valid until 30/11/2027: the charge on 18/11 goes through
        ((12, 2030), 30, 0),
    ],
)
def test_a_card_expiring_before_the_renewal_charge_is_announced_30_days_ahead_once(
    alice, bought, card_expiry, days_before_charge, noticed, django_capture_on_commit_callbacks
):
    from billing.gateways import CardDetails
    from billing.services.card_expiry import card_expiry_notices
    from billing.services.saved_cards import saved_card_record

    mailbox = bought()
    month, year = card_expiry
    saved_card_record(
        customer=alice,
        gateway="test",
        details=CardDetails("test-customer", "test-card-old", "Visa", "1111", month, year),
    )
    charge_on = EXPIRY - timedelta(days=7)
    day = charge_on - timedelta(days=days_before_charge)
    with django_capture_on_commit_callbacks(execute=True):
        assert card_expiry_notices(today=day) == {"noticed": noticed}
        assert card_expiry_notices(today=day) == {"noticed": 0}  # once
    notices = [m for m in mail.outbox if "scade prima del rinnovo" in m.subject]
    assert len(notices) == noticed
    if noticed:
        assert mailbox.address in notices[0].subject
        assert "1111" in notices[0].body and "18/11/2027" in notices[0].body
        assert "/area-clienti/metodi-di-pagamento/" in notices[0].body
