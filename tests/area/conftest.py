"""Fixtures of the Area Clienti tests: the seed's day, and a mailbox six months from expiry."""

from datetime import date

import pytest

TODAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    """The Area Clienti asks timezone.localdate(): pin it to the seed's day."""
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)


@pytest.fixture
def studio(make_mailbox):
    """alice's Pro mailbox, expiring on 2027-05-25: six months left."""
    return make_mailbox(address="studio@pec.it", tier="pro", activated_on=date(2026, 5, 25))
