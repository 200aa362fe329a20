from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from mailboxes.models import Mailbox, MailboxStatus

pytestmark = pytest.mark.django_db


def seed(today="2026-11-25") -> str:
    out = StringIO()
    call_command("seed_demo", "--today", today, stdout=out)
    return out.getvalue()


def test_the_demo_customer_has_every_kind_of_mailbox():
    output = seed()
    assert "demo@pecshop.example" in output
    mailboxes = Mailbox.objects.select_related("tier", "holder", "customer__own_holder")
    assert {m.tier.code for m in mailboxes} == {"standard", "pro", "premium"}
    assert any(m.holder_id != m.customer.own_holder_id for m in mailboxes)
    assert any(m.status == MailboxStatus.EXPIRED for m in mailboxes)
    active = [m for m in mailboxes if m.status == MailboxStatus.ACTIVE]
    assert any(0 < (m.expires_on - date(2026, 11, 25)).days <= 20 for m in active)
    assert any(m.addons.exists() for m in mailboxes)
    assert any(m.usage_mailbox_mb for m in mailboxes)


def test_the_demo_credentials_printed_work():
    output = seed()
    email, password = output.split(": ", 1)[1].split(" (")[0].split(" / ")
    request = RequestFactory().post("/accedi/")  # the lockout check needs the request
    assert authenticate(request, username=email, password=password) is not None


def test_seeding_twice_changes_nothing():
    seed()
    before = Mailbox.objects.count()
    output = seed()
    assert "già presente" in output
    assert Mailbox.objects.count() == before == 5
