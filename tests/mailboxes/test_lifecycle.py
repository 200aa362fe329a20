"""The daily mailbox jobs: expiry, end of grace, scheduled changes, reminders, usage alerts,
disdetta; each idempotent and safe to kill between batches."""

from datetime import date, timedelta
from functools import partial
from unittest import mock

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from mailboxes import lifecycle
from mailboxes.lifecycle import (
    apply_term_changes,
    end_grace,
    expire_mailboxes,
    mailbox_cascade,
    mailbox_invariant_violations,
    reminders,
    reminders_send,
    usage_alerts,
    usage_alerts_send,
)
from mailboxes.models import (
    AddOnStatus,
    EventKind,
    Mailbox,
    MailboxAddOn,
    MailboxEvent,
    MailboxStatus,
    ProvisioningCall,
    ReminderSent,
    UsageAlert,
)
from mailboxes.services import (
    TransitionError,
    mailbox_cancel,
    mailbox_renew,
    mailbox_set_usage,
    mailbox_transition,
)

pytestmark = pytest.mark.django_db

EXPIRY = date(2027, 5, 25)  # of make_mailbox's default mailbox


def statuses(mailbox):
    mailbox.refresh_from_db()
    return mailbox.status, sorted(mailbox.addons.values_list("addon__code", "status"))


def snapshot():
    """Everything a job may write, to show that a second run writes nothing."""
    return (
        list(Mailbox.objects.order_by("pk").values_list("pk", "status", "updated_at")),
        list(MailboxAddOn.objects.order_by("pk").values_list("pk", "status", "quantity")),
        MailboxEvent.objects.count(),
        ReminderSent.objects.count(),
        list(UsageAlert.objects.order_by("pk").values_list("pk", "level", "email_pending")),
        ProvisioningCall.objects.count(),
    )


def run_day(today, **kwargs):
    """The mailbox jobs of one day, in the order billing.lifecycle runs them."""
    apply_term_changes(today=today, **kwargs)
    expire_mailboxes(today=today, **kwargs)
    end_grace(today=today, **kwargs)
    reminders(today=today, **kwargs)
    reminders_send(today=today)
    usage_alerts(today=today, **kwargs)
    usage_alerts_send(today=today)


# --- expiry -----------------------------------------------------------------------------------


def test_the_expiry_job_expires_the_mailbox_and_its_addons_the_same_day(make_mailbox):
    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5, "ARCHIVIO": 2})
    later = make_mailbox(address="dopo@pec.it", activated_on=date(2026, 5, 26))

    assert expire_mailboxes(today=EXPIRY) == {"expired": 1, "cancelled": 0}

    assert statuses(mailbox) == ("expired", [("ARCHIVIO", "expired"), ("CONSERVAZIONE", "expired")])
    assert mailbox.expired_on == EXPIRY
    assert statuses(later) == ("active", [])
    event = MailboxEvent.objects.get(mailbox=mailbox, kind=EventKind.STATUS, to_status="expired")
    assert (event.from_status, event.reason, event.actor, event.data) == (
        "active",
        "scadenza",
        None,
        {"on": "2027-05-25"},
    )
    addon_events = MailboxEvent.objects.filter(
        mailbox=mailbox, kind=EventKind.ADDON_STATUS, reason="scadenza"
    )
    assert sorted(
        (e.data["addon"], e.data["quantity"], e.from_status, e.to_status) for e in addon_events
    ) == [
        ("ARCHIVIO", 2, "active", "expired"),
        ("CONSERVAZIONE", 5, "active", "expired"),
    ]


def test_a_mailbox_is_in_service_up_to_the_day_before_its_expiry(make_mailbox):
    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5})
    assert expire_mailboxes(today=EXPIRY - timedelta(days=1)) == {"expired": 0, "cancelled": 0}
    assert statuses(mailbox) == ("active", [("CONSERVAZIONE", "active")])


def test_a_mailbox_the_job_missed_is_expired_on_the_next_run(make_mailbox):
    mailbox = make_mailbox()
    expire_mailboxes(today=EXPIRY + timedelta(days=3))
    mailbox.refresh_from_db()
    assert (mailbox.status, mailbox.expired_on) == ("expired", EXPIRY + timedelta(days=3))


def test_a_second_run_the_same_day_changes_nothing(make_mailbox):
    make_mailbox(extras={"CONSERVAZIONE": 5})
    make_mailbox(address="altra@pec.it", extras={"SPAZIO": 3})
    run_day(EXPIRY)
    before, outbox = snapshot(), len(mail.outbox)

    run_day(EXPIRY)

    assert snapshot() == before
    assert len(mail.outbox) == outbox


def test_a_disdetta_at_expiry_cancels_the_mailbox_and_its_addons_on_the_day(make_mailbox, alice):
    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5})
    mailbox.auto_renew = True
    mailbox.save()

    mailbox_cancel(mailbox=mailbox, today=date(2027, 1, 10), at_expiry=True, actor=alice.user)

    mailbox.refresh_from_db()
    assert (mailbox.status, mailbox.cancel_at_expiry, mailbox.auto_renew) == ("active", True, False)
    assert MailboxEvent.objects.filter(mailbox=mailbox, kind=EventKind.SETTINGS).count() == 1
    assert expire_mailboxes(today=EXPIRY) == {"expired": 0, "cancelled": 1}
    assert statuses(mailbox) == ("cancelled", [("CONSERVAZIONE", "cancelled")])
    assert mailbox.cancelled_on == EXPIRY
    event = MailboxEvent.objects.get(mailbox=mailbox, kind=EventKind.STATUS, to_status="cancelled")
    assert event.reason == "disdetta alla scadenza"


# --- kill safety ------------------------------------------------------------------------------


class Killed(Exception):
    pass


def killed_after(calls: int):
    """A stand-in for `_move_batch` that dies on call number `calls` + 1, after doing its
    work (so the transaction of that batch must undo part of a batch)."""
    real = lifecycle._move_batch
    count = {"n": 0}

    def move(**kwargs):
        moved = real(**kwargs)
        count["n"] += 1
        if count["n"] > calls:
            raise Killed
        return moved

    return mock.patch.object(lifecycle, "_move_batch", side_effect=move)


def test_a_job_killed_between_batches_leaves_every_invariant_true_and_a_rerun_finishes(
    make_mailbox,
):
    boxes = [
        make_mailbox(address=f"casella{n}@pec.it", extras={"CONSERVAZIONE": 5, "SPAZIO": 1})
        for n in range(5)
    ]

    with killed_after(2), pytest.raises(Killed):  # one batch (2 moves) done, the second dies
        expire_mailboxes(today=EXPIRY, batch_size=2)

    assert [statuses(m)[0] for m in boxes] == ["expired"] * 2 + ["active"] * 3
    assert mailbox_invariant_violations() == []
    assert MailboxEvent.objects.filter(kind=EventKind.STATUS, to_status="expired").count() == 2

    assert expire_mailboxes(today=EXPIRY, batch_size=2) == {"expired": 3, "cancelled": 0}

    assert [statuses(m)[0] for m in boxes] == ["expired"] * 5
    assert mailbox_invariant_violations(today=EXPIRY) == []
    assert MailboxEvent.objects.filter(kind=EventKind.STATUS, to_status="expired").count() == 5
    assert MailboxEvent.objects.filter(kind=EventKind.ADDON_STATUS, reason="scadenza").count() == 10


def test_the_end_of_grace_killed_half_way_is_finished_by_a_rerun(make_mailbox):
    boxes = [make_mailbox(address=f"g{n}@pec.it", extras={"CONSERVAZIONE": 1}) for n in range(3)]
    expire_mailboxes(today=EXPIRY)
    day = EXPIRY + timedelta(days=90)

    with killed_after(1), pytest.raises(Killed):
        end_grace(today=day, batch_size=1)

    assert [statuses(m)[0] for m in boxes] == ["cancelled", "expired", "expired"]
    assert mailbox_invariant_violations() == []
    assert end_grace(today=day, batch_size=1) == {"cancelled": 2}
    assert mailbox_invariant_violations(today=day) == []


# --- end of grace -----------------------------------------------------------------------------


def test_an_expired_mailbox_is_cancelled_90_days_after_its_expiry(make_mailbox):
    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5, "ARCHIVIO": 1})
    expire_mailboxes(today=EXPIRY)

    assert end_grace(today=EXPIRY + timedelta(days=89)) == {"cancelled": 0}
    assert statuses(mailbox)[0] == "expired"

    assert end_grace(today=EXPIRY + timedelta(days=90)) == {"cancelled": 1}
    assert statuses(mailbox) == (
        "cancelled",
        [("ARCHIVIO", "cancelled"), ("CONSERVAZIONE", "cancelled")],
    )
    assert mailbox.cancelled_on == EXPIRY + timedelta(days=90)
    assert mailbox.expired_on == EXPIRY


def test_a_mailbox_renewed_in_grace_is_not_cancelled(make_mailbox):
    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5})
    expire_mailboxes(today=EXPIRY)
    mailbox_renew(mailbox=mailbox, years=1, today=EXPIRY + timedelta(days=80))

    assert end_grace(today=EXPIRY + timedelta(days=90)) == {"cancelled": 0}
    assert statuses(mailbox) == ("active", [("CONSERVAZIONE", "active")])


# --- disdetta -----------------------------------------------------------------------------------


def test_a_disdetta_now_cancels_the_mailbox_and_its_addons_at_once(
    make_mailbox, alice, django_capture_on_commit_callbacks
):
    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5, "SPAZIO": 2})

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        mailbox_cancel(mailbox=mailbox, today=date(2026, 12, 1), at_expiry=False, actor=alice.user)

    # The cascade task, which finds nothing left to do (the others drop cached page versions
    # and run the platform call).
    from mailboxes.tasks import cancel_mailbox_cascade
    from pecshop.celery import enqueue

    tasks = [
        c
        for c in callbacks
        if isinstance(c, partial) and c.func is enqueue and c.args[0] is cancel_mailbox_cascade
    ]
    assert len(tasks) == 1
    assert statuses(mailbox) == (
        "cancelled",
        [("CONSERVAZIONE", "cancelled"), ("SPAZIO", "cancelled")],
    )
    assert mailbox.cancelled_on == date(2026, 12, 1)
    events = MailboxEvent.objects.filter(mailbox=mailbox, to_status="cancelled")
    assert {(e.kind, e.actor_id) for e in events} == {
        (EventKind.STATUS, alice.user.pk),
        (EventKind.ADDON_STATUS, alice.user.pk),
    }
    assert events.count() == 3
    assert mailbox_invariant_violations() == []


def test_a_disdetta_is_refused_for_a_pending_or_cancelled_mailbox_and_at_expiry_when_expired(
    make_mailbox, alice, tiers
):
    from mailboxes.services import mailbox_create

    pending = mailbox_create(
        address="attesa@pec.it",
        tier=tiers["pro"],
        holder=alice.own_holder,
        customer=alice,
        term_years=1,
    )
    with pytest.raises(TransitionError, match="annulla l'ordine"):
        mailbox_cancel(mailbox=pending, today=date(2026, 12, 1), at_expiry=False)

    expired = make_mailbox()
    expire_mailboxes(today=EXPIRY)
    with pytest.raises(TransitionError, match="disdire subito"):
        mailbox_cancel(mailbox=expired, today=EXPIRY, at_expiry=True)
    mailbox_cancel(mailbox=expired, today=EXPIRY, at_expiry=False)
    with pytest.raises(TransitionError, match="già cancellata"):
        mailbox_cancel(mailbox=expired, today=EXPIRY, at_expiry=False)


def test_the_cascade_task_brings_addons_left_behind_in_line(make_mailbox):
    from mailboxes.tasks import cancel_mailbox_cascade

    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5})
    # A bulk change that bypassed the services (e.g. a raw update by staff).
    Mailbox.objects.filter(pk=mailbox.pk).update(status=MailboxStatus.CANCELLED)
    assert mailbox_invariant_violations() != []

    assert cancel_mailbox_cascade.delay(mailbox.pk).get() == 1

    assert statuses(mailbox) == ("cancelled", [("CONSERVAZIONE", "cancelled")])
    assert mailbox_invariant_violations() == []
    assert mailbox_cascade(mailbox_id=mailbox.pk) == 0


# --- scheduled changes ------------------------------------------------------------------------


def schedule_downgrade(mailbox, tiers, addons):
    """An early renewal to Standard keeping 2 GB of Conservazione: Archivio ends."""
    return mailbox_renew(
        mailbox=mailbox,
        years=1,
        today=date(2027, 3, 1),
        to_tier=tiers["standard"],
        keep={addons["CONSERVAZIONE"]: 2},
    )


def test_changes_scheduled_by_an_early_renewal_apply_on_the_old_expiry(make_mailbox, tiers, addons):
    by_job = make_mailbox(extras={"CONSERVAZIONE": 5, "ARCHIVIO": 4, "SPAZIO": 1})
    schedule_downgrade(by_job, tiers, addons)

    assert apply_term_changes(today=EXPIRY - timedelta(days=1)) == {"mailboxes": 0}
    assert apply_term_changes(today=EXPIRY) == {"mailboxes": 1}

    def state(mailbox):
        mailbox.refresh_from_db()
        return (
            mailbox.tier.code,
            mailbox.next_tier_id,
            mailbox.term_changes_on,
            sorted(
                mailbox.addons.values_list("addon__code", "quantity", "next_quantity", "status")
            ),
            sorted(
                (e.kind, e.from_status, e.to_status, sorted(e.data.items()))
                for e in mailbox.events.filter(reason=lifecycle.REASON_TERM_CHANGES)
            ),
        )

    assert state(by_job)[4] == sorted(
        [
            (EventKind.TIER_CHANGED, "", "", [("from", "pro"), ("to", "standard")]),
            (EventKind.ADDON_STATUS, "active", "ended", [("addon", "ARCHIVIO"), ("quantity", 4)]),
            (
                EventKind.ADDON_CHANGED,
                "",
                "",
                [("addon", "CONSERVAZIONE"), ("from", 5), ("to", 2)],
            ),
        ]
    )
    assert state(by_job)[:4] == (
        "standard",
        None,
        None,
        [
            ("ARCHIVIO", 4, None, "ended"),
            ("CONSERVAZIONE", 2, None, "active"),
            ("SPAZIO", 1, None, "active"),
        ],
    )
    call = ProvisioningCall.objects.get(
        mailbox=by_job, action="set_quotas", payload__tier="standard"
    )
    assert call.payload == {"tier": "standard", "addons": {"CONSERVAZIONE": 2, "SPAZIO": 1}}
    assert mailbox_invariant_violations() == []
    assert apply_term_changes(today=EXPIRY) == {"mailboxes": 0}


# --- reminders --------------------------------------------------------------------------------


def reminder_log(mailbox):
    return [
        (r.kind, r.due_on)
        for r in ReminderSent.objects.filter(mailbox=mailbox, sent_at__isnull=False).order_by(
            "due_on"
        )
    ]


def test_reminders_go_out_90_60_30_15_7_1_days_before_and_during_grace_once_each(
    make_mailbox, alice
):
    mailbox = make_mailbox()
    # Every day from three days before each reminder's day to three days after it (a job
    # that ran on the days between would find nothing due: a reminder is due on its day,
    # or up to two days late).
    days = sorted(
        {
            EXPIRY + timedelta(days=offset + shift)
            for offset in lifecycle.REMINDER_DAYS.values()
            for shift in range(-3, 4)
        }
    )
    for day in days:
        sent = len(mail.outbox)
        run_day(day)
        if len(mail.outbox) > sent:
            run_day(day)  # a second run the same day sends nothing

    expected = [
        ("before_90", EXPIRY - timedelta(days=90)),
        ("before_60", EXPIRY - timedelta(days=60)),
        ("before_30", EXPIRY - timedelta(days=30)),
        ("before_15", EXPIRY - timedelta(days=15)),
        ("before_7", EXPIRY - timedelta(days=7)),
        ("before_1", EXPIRY - timedelta(days=1)),
        ("grace_0", EXPIRY),
        ("grace_30", EXPIRY + timedelta(days=30)),
        ("grace_60", EXPIRY + timedelta(days=60)),
        ("grace_83", EXPIRY + timedelta(days=83)),
        ("grace_89", EXPIRY + timedelta(days=89)),
    ]
    assert reminder_log(mailbox) == expected
    subjects = [m.subject for m in mail.outbox]
    assert len(subjects) == 11
    assert subjects[0] == "La casella PEC studio@pec.it scade il 25/05/2027"
    assert subjects[6] == "La casella PEC studio@pec.it è scaduta"
    assert subjects[-1] == "La casella PEC studio@pec.it è scaduta: rinnovala entro il 22/08/2027"
    assert {tuple(m.to) for m in mail.outbox} == {(alice.email,)}
    assert "tra 90 giorni" in mail.outbox[0].body
    assert "cioè domani" in mail.outbox[5].body
    assert "Fino al 22/08/2027" in mail.outbox[6].body


def test_a_reminder_is_not_sent_when_the_mailbox_was_renewed_meanwhile(make_mailbox):
    mailbox = make_mailbox()
    day = EXPIRY - timedelta(days=30)
    reminders(today=day)  # recorded ...
    mailbox_renew(mailbox=mailbox, years=1, today=day)  # ... then renewed before it went out

    assert reminders_send(today=day) == {"sent": 0}
    for later in (EXPIRY - timedelta(days=15), EXPIRY - timedelta(days=7)):
        assert reminders(today=later) == {"recorded": 0}
    assert mail.outbox == []


def test_a_reminder_day_missed_is_caught_up_within_two_days(make_mailbox):
    mailbox = make_mailbox()
    run_day(EXPIRY - timedelta(days=29))  # the run of the 30-day reminder did not happen
    assert reminder_log(mailbox) == [("before_30", EXPIRY - timedelta(days=29))]

    other = make_mailbox(address="tardi@pec.it")
    run_day(EXPIRY - timedelta(days=12))  # three days late for the 15-day one: too late
    assert reminder_log(other) == []


def test_no_renewal_reminders_for_a_mailbox_with_a_disdetta_at_expiry(make_mailbox):
    mailbox = make_mailbox()
    mailbox_cancel(mailbox=mailbox, today=date(2027, 1, 1), at_expiry=True)
    for days in (90, 30, 7, 1):
        run_day(EXPIRY - timedelta(days=days))
    run_day(EXPIRY)
    assert reminder_log(mailbox) == []
    assert statuses(mailbox)[0] == "cancelled"


# --- usage alerts -----------------------------------------------------------------------------


def use(mailbox, mailbox_mb=0, archive_mb=0, conservation_mb=0):
    mailbox_set_usage(
        mailbox=mailbox,
        mailbox_mb=mailbox_mb,
        archive_mb=archive_mb,
        conservation_mb=conservation_mb,
        at=timezone.now(),
    )


def alerts_on(day):
    usage_alerts(today=day)
    start = len(mail.outbox)
    usage_alerts_send(today=day)
    return [m.subject for m in mail.outbox[start:]]


def test_usage_is_alerted_at_70_and_90_percent_once_per_crossing(make_mailbox):
    mailbox = make_mailbox(extras={"SPAZIO": 2})  # Pro: 2 GB + 2 GB = 4096 MB
    day = date(2026, 9, 1)

    use(mailbox, mailbox_mb=2860)  # 69.8%
    assert alerts_on(day) == []
    use(mailbox, mailbox_mb=2868)  # 70.0%
    assert alerts_on(day) == ["Spazio della casella studio@pec.it al 70%"]
    assert alerts_on(day + timedelta(days=1)) == []  # still above: once per crossing
    use(mailbox, mailbox_mb=3700)  # 90.3%
    assert alerts_on(day + timedelta(days=2)) == ["Spazio della casella studio@pec.it al 90%"]
    use(mailbox, mailbox_mb=1000)
    assert alerts_on(day + timedelta(days=3)) == []  # dropping below is not alerted ...
    assert UsageAlert.objects.get(mailbox=mailbox, quota="mailbox").level == 0
    use(mailbox, mailbox_mb=3072)
    assert alerts_on(day + timedelta(days=4)) == ["Spazio della casella studio@pec.it al 70%"]
    assert "3,0 GB su 4 GB" in mail.outbox[-1].body


def test_usage_alerts_count_each_quota_with_its_addons_and_never_a_quota_of_zero(
    make_mailbox,
):
    pro = make_mailbox(extras={"ARCHIVIO": 2, "CONSERVAZIONE": 10})  # archive 3 + 2 GB
    standard = make_mailbox(address="std@pec.it", tier="standard")  # no archive at all
    use(pro, archive_mb=4700, conservation_mb=7200)  # 91.8% and 70.3%
    use(standard, mailbox_mb=100, archive_mb=50)

    assert sorted(alerts_on(date(2026, 9, 1))) == [
        "Spazio dell'archivio di sicurezza studio@pec.it al 90%",
        "Spazio della conservazione studio@pec.it al 70%",
    ]
    assert not UsageAlert.objects.filter(mailbox=standard).exists()


# --- commands ---------------------------------------------------------------------------------


def test_each_job_has_a_command_taking_the_day(make_mailbox, capsys):
    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5})
    call_command("expire_mailboxes", "--today", "2027-05-25", "--batch-size", "10")
    assert "2027-05-25: expired 1, cancelled 0" in capsys.readouterr().out
    call_command("send_reminders", "--today", "2027-05-25")
    assert "recorded 1, sent 1" in capsys.readouterr().out
    call_command("usage_alerts", "--today", "2027-05-25")
    call_command("apply_term_changes", "--today", "2027-05-25")
    call_command("end_grace", "--today", "2027-08-23")
    assert "cancelled 1" in capsys.readouterr().out
    assert statuses(mailbox)[0] == "cancelled"


@pytest.mark.parametrize("value", ["2027-02-30", "25/05/2027", "domani", "2027-5-2x"])
def test_a_bad_day_is_a_clear_error_not_a_traceback(value):
    with pytest.raises(CommandError, match="data non valida"):
        call_command("expire_mailboxes", "--today", value)


def test_a_bad_batch_size_is_a_clear_error():
    with pytest.raises(CommandError, match="non è un numero intero positivo"):
        call_command("end_grace", "--batch-size", "0")


def test_check_invariants_lists_every_violation_and_fails(make_mailbox, capsys):
    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5})
    other = make_mailbox(address="std@pec.it", tier="standard", extras={"SPAZIO": 1})
    call_command("check_invariants", "--today", "2027-05-24")
    assert "Invarianti rispettati." in capsys.readouterr().out

    Mailbox.objects.filter(pk=mailbox.pk).update(status=MailboxStatus.EXPIRED)
    MailboxAddOn.objects.filter(mailbox=other).update(quantity=3)  # Standard: at most 1 GB

    with pytest.raises(CommandError, match="3 violazioni"):
        call_command("check_invariants", "--today", "2027-05-25")
    errors = capsys.readouterr().err
    assert "servizio attivo su una casella non attiva: studio@pec.it CONSERVAZIONE" in errors
    assert "servizio non ammesso dalla tipologia: std@pec.it SPAZIO x3 su Standard" in errors
    assert "casella attiva alla scadenza o dopo: std@pec.it (scadenza 25/05/2027)" in errors


def test_check_invariants_flags_an_addon_the_tier_does_not_sell(make_mailbox):
    mailbox = make_mailbox(tier="standard", extras={"CONSERVAZIONE": 1})
    MailboxAddOn.objects.filter(mailbox=mailbox).update(
        addon=MailboxAddOn._meta.get_field("addon").related_model.objects.get(code="ARCHIVIO")
    )
    assert mailbox_invariant_violations() == [
        "servizio non ammesso dalla tipologia: studio@pec.it ARCHIVIO x1 su Standard: "
        "non in vendita"
    ]


def test_expired_addons_of_an_expired_mailbox_are_fine_but_an_active_one_is_a_violation(
    make_mailbox,
):
    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5})
    mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.EXPIRED, today=EXPIRY)
    assert mailbox_invariant_violations(today=EXPIRY) == []
    MailboxAddOn.objects.filter(mailbox=mailbox).update(status=AddOnStatus.ACTIVE)
    assert len(mailbox_invariant_violations()) == 1
