"""One transition map drives the single-mailbox service and the set-based jobs alike: a job
refuses a move, or a cascade, that the map does not allow."""

from datetime import date

import pytest

from mailboxes import models
from mailboxes.lifecycle import apply_term_changes, end_grace, expire_mailboxes
from mailboxes.models import (
    ADDON_CASCADE,
    ADDON_TRANSITIONS,
    AddOnStatus,
    MailboxEvent,
    MailboxStatus,
)
from mailboxes.services import TransitionError, mailbox_renew, mailbox_transition

pytestmark = pytest.mark.django_db
EXPIRY = date(2027, 5, 25)


def test_every_cascade_move_is_one_the_add_on_map_allows():
    for sources, target in ADDON_CASCADE.values():
        for source in sources:
            assert target in ADDON_TRANSITIONS[source], (source, target)


def test_the_expiry_job_refuses_a_move_the_map_does_not_allow(make_mailbox, monkeypatch):
    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5})
    events = MailboxEvent.objects.count()
    monkeypatch.setitem(
        models.MAILBOX_TRANSITIONS, MailboxStatus.ACTIVE, frozenset({MailboxStatus.CANCELLED})
    )
    with pytest.raises(TransitionError):
        expire_mailboxes(today=EXPIRY)
    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.ACTIVE
    assert MailboxEvent.objects.count() == events
    # The single-mailbox service reads the same map.
    with pytest.raises(TransitionError):
        mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.EXPIRED, today=EXPIRY)


def test_the_grace_job_refuses_a_move_the_map_does_not_allow(make_mailbox, monkeypatch):
    mailbox = make_mailbox()
    expire_mailboxes(today=EXPIRY)
    monkeypatch.setitem(models.MAILBOX_TRANSITIONS, MailboxStatus.EXPIRED, frozenset())
    with pytest.raises(TransitionError):
        end_grace(today=date(2027, 9, 1))
    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.EXPIRED


def test_a_job_refuses_a_cascade_the_add_on_map_does_not_allow(make_mailbox, monkeypatch):
    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5})
    # A cascade that would end add-ons awaiting payment as "expired": not an add-on move.
    monkeypatch.setitem(
        models.ADDON_CASCADE,
        MailboxStatus.EXPIRED,
        (frozenset({AddOnStatus.PENDING, AddOnStatus.ACTIVE}), AddOnStatus.EXPIRED),
    )
    with pytest.raises(TransitionError):
        expire_mailboxes(today=EXPIRY)
    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.ACTIVE
    assert set(mailbox.addons.values_list("status", flat=True)) == {AddOnStatus.ACTIVE}


def test_the_term_changes_job_ends_add_ons_only_from_statuses_the_map_allows(
    make_mailbox, tiers, addons, monkeypatch
):
    mailbox = make_mailbox(extras={"ARCHIVIO": 4})
    mailbox_renew(
        mailbox=mailbox,
        years=1,
        today=date(2027, 3, 1),
        to_tier=tiers["standard"],
        keep={addons["ARCHIVIO"]: 0},
    )
    # If an active add-on could not end, the job leaves it alone.
    monkeypatch.setitem(
        models.ADDON_TRANSITIONS,
        AddOnStatus.ACTIVE,
        frozenset({AddOnStatus.EXPIRED, AddOnStatus.CANCELLED}),
    )
    apply_term_changes(today=EXPIRY)
    assert list(mailbox.addons.values_list("addon__code", "status")) == [
        ("ARCHIVIO", AddOnStatus.ACTIVE)
    ]
