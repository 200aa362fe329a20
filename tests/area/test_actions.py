"""What a mailbox offers is decided by one selector, `mailbox_actions`, as a table over the
tier, the status and the add-ons held; the pages show exactly that."""

from datetime import date

import pytest
from django.test import Client

from addons.models import Tier
from area.selectors import PURCHASES, mailbox_actions
from mailboxes.models import Mailbox, MailboxStatus
from tests.conftest import domain_catalogue

TODAY = date(2026, 11, 25)
EXPIRY = date(2027, 5, 25)
ALL_TIERS = ("standard", "pro", "premium")


def offered(tier, status, holdings=None, *, expires_on=EXPIRY, mailbox_only=False, withdrawable=()):
    mailbox = Mailbox(pk=7, tier=Tier(code=tier), status=status, expires_on=expires_on)
    actions = mailbox_actions(
        mailbox,
        TODAY,
        catalogue=domain_catalogue(),
        holdings=holdings or {},
        mailbox_only=mailbox_only,
        withdrawable=withdrawable,
    )
    return [(a.code, a.to_tier, a.choices) for a in actions]


def renewals(tier):
    """Rinnova on the same tier first, then as each other tier, each with the add-ons its
    target tier sells."""
    sold = {
        "standard": ("SPAZIO", "CONSERVAZIONE", "SMS"),
        "pro": ("SPAZIO", "ARCHIVIO", "CONSERVAZIONE"),
        "premium": ("SPAZIO", "ARCHIVIO", "CONSERVAZIONE", "MULTIUTENTE"),
    }
    return [("rinnova", t, sold[t]) for t in sorted(ALL_TIERS, key=lambda t: t != tier)]


ACCOUNT = [("titolare", "", ()), ("disdetta", "", ())]


@pytest.mark.parametrize(
    "tier, status, holdings, expected",
    [
        (
            "standard",
            MailboxStatus.ACTIVE,
            {},
            [
                ("acquista", "", ("SPAZIO", "CONSERVAZIONE", "SMS")),
                ("upgrade", "", ("pro", "premium")),
                *renewals("standard"),
                *ACCOUNT,
            ],
        ),
        (
            # SPAZIO at its maximum of 1 GB: nothing to increase, but it can be reduced.
            "standard",
            MailboxStatus.ACTIVE,
            {"SPAZIO": 1, "SMS": 1},
            [
                ("acquista", "", ("CONSERVAZIONE",)),
                ("upgrade", "", ("pro", "premium")),
                ("riduci", "", ("SPAZIO",)),
                *renewals("standard"),
                *ACCOUNT,
            ],
        ),
        (
            "pro",
            MailboxStatus.ACTIVE,
            {"CONSERVAZIONE": 5},
            [
                ("acquista", "", ("SPAZIO", "ARCHIVIO")),
                ("aumenta", "", ("CONSERVAZIONE",)),
                ("upgrade", "", ("premium",)),
                ("riduci", "", ("CONSERVAZIONE",)),
                *renewals("pro"),
                *ACCOUNT,
            ],
        ),
        (
            "premium",
            MailboxStatus.ACTIVE,
            {"MULTIUTENTE": 2},
            [
                ("acquista", "", ("SPAZIO", "ARCHIVIO", "CONSERVAZIONE")),
                ("multiutente", "", ("MULTIUTENTE",)),
                *renewals("premium"),
                *ACCOUNT,
            ],
        ),
        ("pro", MailboxStatus.EXPIRED, {"CONSERVAZIONE": 5}, [*renewals("pro"), *ACCOUNT]),
        ("premium", MailboxStatus.CANCELLED, {}, []),
        ("standard", MailboxStatus.PENDING, {"SPAZIO": 1}, []),
    ],
)
def test_the_actions_offered_follow_tier_status_and_addons_held(tier, status, holdings, expected):
    expires_on = date(2026, 11, 1) if status == MailboxStatus.EXPIRED else EXPIRY
    assert offered(tier, status, holdings, expires_on=expires_on) == expected


def test_multiutente_is_offered_only_on_premium():
    for tier in ALL_TIERS:
        codes = [code for code, _, _ in offered(tier, MailboxStatus.ACTIVE)]
        assert ("multiutente" in codes) == (tier == "premium"), tier


def test_a_pro_renewal_offers_neither_multiutente_nor_sms():
    renewals = [a for a in offered("pro", MailboxStatus.ACTIVE) if a[0] == "rinnova"]
    assert renewals[0][1] == "pro"
    assert "MULTIUTENTE" not in renewals[0][2] and "SMS" not in renewals[0][2]


def test_an_expired_mailbox_past_its_grace_period_offers_no_renewal():
    codes = offered("pro", MailboxStatus.EXPIRED, expires_on=date(2026, 8, 1))
    assert codes == ACCOUNT


def test_a_mailbox_credential_session_is_offered_only_the_plain_renewal():
    assert offered("premium", MailboxStatus.ACTIVE, {"SPAZIO": 3}, mailbox_only=True) == [
        ("rinnova", "premium", ())
    ]


RECEDI = ("recedi", "", ("2026-000012",))


@pytest.mark.parametrize(
    "status, withdrawable, mailbox_only, expected",
    [
        # An order of the mailbox in its period: offered before the account's actions.
        (MailboxStatus.ACTIVE, ("2026-000012",), False, [RECEDI, *ACCOUNT]),
        (MailboxStatus.EXPIRED, ("2026-000012",), False, [RECEDI, *ACCOUNT]),
        # One per order still in its period.
        (
            MailboxStatus.ACTIVE,
            ("2026-000013", "2026-000012"),
            False,
            [("recedi", "", ("2026-000013",)), RECEDI, *ACCOUNT],
        ),
        # No order in its period (a business, past the 14 days, withdrawn already).
        (MailboxStatus.ACTIVE, (), False, ACCOUNT),
        # A session opened with the mailbox's own credentials never withdraws.
        (MailboxStatus.ACTIVE, ("2026-000012",), True, []),
        (MailboxStatus.CANCELLED, ("2026-000012",), False, []),
        (MailboxStatus.PENDING, ("2026-000012",), False, []),
    ],
)
def test_withdrawal_is_offered_for_each_order_of_the_mailbox_in_its_period(
    status, withdrawable, mailbox_only, expected
):
    expires_on = date(2026, 11, 1) if status == MailboxStatus.EXPIRED else EXPIRY
    actions = [
        a
        for a in offered(
            "pro",
            status,
            expires_on=expires_on,
            mailbox_only=mailbox_only,
            withdrawable=withdrawable,
        )
        if a[0] not in PURCHASES
    ]
    assert actions == expected


def test_the_withdrawal_action_leads_to_its_order_s_withdrawal_page():
    mailbox = Mailbox(pk=7, tier=Tier(code="pro"), status=MailboxStatus.ACTIVE, expires_on=EXPIRY)
    [recedi] = [
        a
        for a in mailbox_actions(
            mailbox,
            TODAY,
            catalogue=domain_catalogue(),
            holdings={},
            withdrawable=("2026-000012",),
        )
        if a.code == "recedi"
    ]
    assert recedi.label == "Recedi dal contratto qui"
    assert recedi.url == "/area-clienti/ordini/2026-000012/recesso/"
    assert recedi.style == "danger"


# --- the pages show exactly what the selector returns -----------------------------------------


def logged(customer) -> Client:
    client = Client()
    client.force_login(customer.user)
    return client


@pytest.mark.django_db
def test_a_standard_mailbox_page_does_not_offer_multiutente(alice, make_mailbox):
    standard = make_mailbox(address="base@pec.it", tier="standard")
    page = logged(alice).get(f"/area-clienti/caselle/{standard.pk}/").content.decode()
    assert "Aggiungi utenti Multiutente" not in page
    assert "Passa a una tipologia superiore" in page and "Rinnova come Premium" in page


@pytest.mark.django_db
def test_a_premium_mailbox_page_offers_multiutente(alice, make_mailbox):
    premium = make_mailbox(address="top@pec.it", tier="premium")
    page = logged(alice).get(f"/area-clienti/caselle/{premium.pk}/").content.decode()
    assert "Aggiungi utenti Multiutente" in page
    assert "Passa a una tipologia superiore" not in page


@pytest.mark.django_db
def test_the_renewal_form_offers_the_add_ons_of_its_target_tier(alice, make_mailbox):
    pro = make_mailbox(address="pro@pec.it", tier="pro")
    client = logged(alice)
    same = client.get(f"/area-clienti/caselle/{pro.pk}/rinnova/").context["form"]
    assert {n for n in same.fields if n.startswith("add_")} == {
        "add_SPAZIO",
        "add_ARCHIVIO",
        "add_CONSERVAZIONE",
    }
    up = client.get(f"/area-clienti/caselle/{pro.pk}/rinnova/?tipologia=premium").context["form"]
    assert "add_MULTIUTENTE" in up.fields and "add_SMS" not in up.fields
    assert up["to_tier"].value() == "premium"
