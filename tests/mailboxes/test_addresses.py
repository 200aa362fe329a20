from datetime import date

import pytest

from mailboxes.addresses import local_part_error, make_address
from mailboxes.models import MailboxStatus
from mailboxes.selectors import address_unavailable_reason
from mailboxes.services import mailbox_transition


@pytest.mark.parametrize("local_part", ["abc", "studio.rossi", "a-b_c.d", "x" * 64, "ABC"])
def test_a_valid_local_part_is_accepted(local_part):
    assert local_part_error(local_part) is None


@pytest.mark.parametrize(
    ("local_part", "message"),
    [
        ("", "Indica"),
        ("ab", "almeno 3"),
        ("x" * 65, "al massimo 64"),
        (".abc", "iniziare o finire"),
        ("abc.", "iniziare o finire"),
        ("a..bc", "due punti"),
        ("mario rossi", "Usa solo"),
        ("città", "Usa solo"),
        ("a+b", "Usa solo"),
    ],
)
def test_an_invalid_local_part_is_refused_with_the_reason(local_part, message):
    assert message in local_part_error(local_part)


def test_addresses_are_lower_cased():
    assert make_address(" Studio.Rossi ", "PEC.it") == "studio.rossi@pec.it"


@pytest.mark.django_db
def test_a_live_address_is_taken(make_mailbox):
    make_mailbox(address="presa@pec.it")
    assert "già in uso" in address_unavailable_reason("presa@pec.it")


@pytest.mark.django_db
def test_a_cancelled_address_can_be_bought_again_only_by_the_same_holder(make_mailbox, alice):
    mailbox = make_mailbox(address="ex@pec.it")
    mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.CANCELLED, today=date(2026, 6, 1))
    assert address_unavailable_reason("ex@pec.it", alice.own_holder.fiscal_code) is None
    assert "precedente titolare" in address_unavailable_reason("ex@pec.it", "VRDGPP80A01F205X")
