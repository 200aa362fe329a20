"""Dated price changes: a change takes effect from its date, never before, never on orders
already placed, and the history keeps every row."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from addons.models import AddOn, PriceChange, Tier
from addons.services import (
    DatedPrice,
    price_change_schedule,
    price_changes_apply,
    price_in_effect,
)
from billing.catalogue import load_catalogue
from billing.pricing import quote_new_mailbox
from tests.conftest import give_second_factor

TODAY = date(2026, 11, 25)
DECEMBER = date(2026, 12, 1)


# --- the rule, with no database ---------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2026, 1, 1), D("24.90")),  # before any change: the price before the first one
        (date(2026, 11, 30), D("24.90")),
        (date(2026, 12, 1), D("29.90")),  # from its day on
        (date(2027, 2, 28), D("29.90")),
        (date(2027, 3, 1), D("27.00")),
        (date(2030, 1, 1), D("27.00")),
    ],
)
def test_the_price_in_effect_is_the_latest_change_not_after_the_day(on, expected):
    history = [
        DatedPrice(date(2026, 12, 1), D("29.90"), D("24.90")),
        DatedPrice(date(2027, 3, 1), D("27.00"), D("29.90")),
    ]
    assert price_in_effect(history, D("99.00"), on) == expected


def test_with_no_history_the_price_is_the_items_own():
    assert price_in_effect([], D("24.90"), TODAY) == D("24.90")


def test_on_the_same_day_the_later_row_wins():
    history = [
        DatedPrice(DECEMBER, D("29.90"), D("24.90")),
        DatedPrice(DECEMBER, D("28.90"), D("24.90")),
    ]
    assert price_in_effect(history, D("24.90"), DECEMBER) == D("28.90")


# --- the service and the catalogue --------------------------------------------------------


@pytest.mark.django_db
def test_a_future_change_does_not_touch_todays_quote_and_applies_from_its_date(admin_user):
    pro = Tier.objects.get(code="pro")
    price_change_schedule(
        tier=pro, price=D("29.90"), effective_from=DECEMBER, today=TODAY, actor=admin_user
    )
    pro.refresh_from_db()
    assert pro.price_per_year == D("24.90")  # the current price, until the day comes

    today = quote_new_mailbox(load_catalogue(on=TODAY), tier="pro", years=1, addons={})
    eve = quote_new_mailbox(load_catalogue(on=date(2026, 11, 30)), tier="pro", years=1, addons={})
    day = quote_new_mailbox(load_catalogue(on=DECEMBER), tier="pro", years=1, addons={})
    assert (today.net, eve.net, day.net) == (D("24.90"), D("24.90"), D("29.90"))
    assert day.vat == D("6.58")


@pytest.mark.django_db
def test_an_addon_price_change_applies_to_the_rateo_from_its_date(admin_user):
    conservazione = AddOn.objects.get(code="CONSERVAZIONE")
    price_change_schedule(
        addon=conservazione, price=D("6.00"), effective_from=DECEMBER, today=TODAY
    )
    assert load_catalogue(on=TODAY).addon("CONSERVAZIONE").price_per_year == D("4.00")
    assert load_catalogue(on=DECEMBER).addon("CONSERVAZIONE").price_per_year == D("6.00")


@pytest.mark.django_db
def test_a_change_from_today_updates_the_current_price_at_once(admin_user):
    sms = AddOn.objects.get(code="SMS")
    change = price_change_schedule(
        addon=sms, price=D("5.00"), effective_from=TODAY, today=TODAY, actor=admin_user
    )
    sms.refresh_from_db()
    assert sms.price_per_year == D("5.00")
    assert (change.previous_price, change.created_by) == (D("4.00"), admin_user)


@pytest.mark.django_db
def test_a_change_cannot_start_in_the_past():
    with pytest.raises(ValidationError, match="passato"):
        price_change_schedule(
            tier=Tier.objects.get(code="pro"),
            price=D("1.00"),
            effective_from=date(2026, 11, 24),
            today=TODAY,
        )


@pytest.mark.django_db
def test_the_daily_job_brings_the_current_price_to_the_one_in_effect():
    pro = Tier.objects.get(code="pro")
    price_change_schedule(tier=pro, price=D("29.90"), effective_from=DECEMBER, today=TODAY)
    assert price_changes_apply(today=date(2026, 11, 30)) == 0
    assert price_changes_apply(today=DECEMBER) == 1
    assert price_changes_apply(today=DECEMBER) == 0  # again: nothing left to do
    pro.refresh_from_db()
    assert pro.price_per_year == D("29.90")
    # the history still answers for the days before
    assert load_catalogue(on=TODAY).tier("pro").price_per_year == D("24.90")


@pytest.mark.django_db
def test_the_history_is_append_only():
    change = price_change_schedule(
        tier=Tier.objects.get(code="pro"), price=D("29.90"), effective_from=DECEMBER, today=TODAY
    )
    change.price_per_year = D("1.00")
    with pytest.raises(ValueError, match="non si modifica"):
        change.save()
    with pytest.raises(ValueError, match="non si cancella"):
        change.delete()


@pytest.mark.django_db
def test_load_catalogue_runs_one_query_whatever_the_history(
    django_assert_num_queries, django_assert_max_num_queries
):
    """One query; on PostgreSQL, after a change, two: the version, then the rows."""
    pro = Tier.objects.get(code="pro")
    with django_assert_max_num_queries(2):
        load_catalogue(on=TODAY)
    with django_assert_num_queries(1):
        load_catalogue(on=TODAY)
    for day in range(1, 29):
        price_change_schedule(
            tier=pro, price=D(day), effective_from=date(2027, 2, day), today=TODAY
        )
    with django_assert_max_num_queries(2):
        catalogue = load_catalogue(on=date(2027, 2, 14))
    assert catalogue.tier("pro").price_per_year == D("14.00")
    with django_assert_num_queries(1):
        assert load_catalogue(on=date(2027, 2, 14)) is catalogue


@pytest.mark.django_db
def test_an_order_is_priced_on_its_day_and_keeps_its_price_after_a_change(
    alice, order_for, pay, monkeypatch
):
    """Orders take the catalogue of the day they are placed (the clock is the only way in
    while `order_place` calls `load_catalogue()` with no date)."""
    from django.utils import timezone

    from tests.billing.test_orders import new_mailbox

    pro = Tier.objects.get(code="pro")
    price_change_schedule(tier=pro, price=D("29.90"), effective_from=DECEMBER, today=TODAY)

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    before = order_for(new_mailbox(alice, local_part="prima", years=1), today=TODAY)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: DECEMBER)
    after = order_for(new_mailbox(alice, local_part="dopo", years=1), today=DECEMBER)
    pay(before, paid_on=DECEMBER)

    assert before.lines.get(code="pro").unit_price == D("24.90")
    assert after.lines.get(code="pro").unit_price == D("29.90")
    assert before.invoices.get().net == D("24.90")


@pytest.mark.django_db
def test_staff_change_a_price_from_a_date_in_the_admin(client):
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    manager = User.objects.create_user("capo", "capo@pecshop.example", "x", is_staff=True)
    give_second_factor(manager)
    manager.groups.add(Group.objects.get(name="Amministrazione"))
    client.force_login(manager)
    pro = Tier.objects.get(code="pro")
    url = reverse("admin:addons_tier_operation", args=["prezzo"]) + f"?ids={pro.pk}"
    future = timezone.localdate().replace(year=timezone.localdate().year + 1)
    response = client.post(
        url,
        {
            "price": "29,90",
            "effective_from": future.strftime("%d/%m/%Y"),
            "reason": "listino nuovo anno",
        },
    )
    assert response.status_code == 302
    change = PriceChange.objects.get()
    assert (change.tier, change.price_per_year, change.previous_price) == (
        pro,
        D("29.90"),
        D("24.90"),
    )
    assert (change.effective_from, change.created_by, change.reason) == (
        future,
        manager,
        "listino nuovo anno",
    )
    page = client.get(reverse("admin:addons_tier_change", args=[pro.pk]))
    html = page.content.decode()
    assert "Storico dei prezzi" in html
    assert "29,90" in html
    listing = client.get(reverse("admin:addons_tier_changelist")).content.decode()
    assert f"€ 29,90 dal {future:%d/%m/%Y}" in listing  # the next change
    assert "€ 24,90" in listing  # today's price

    past = timezone.localdate().replace(year=timezone.localdate().year - 1)
    refused = client.post(
        url, {"price": "1,00", "effective_from": past.strftime("%d/%m/%Y"), "reason": "x"}
    )
    assert refused.status_code == 200
    assert "passato" in refused.content.decode()
    assert PriceChange.objects.count() == 1


@pytest.mark.django_db
def test_the_price_field_is_read_only_on_an_existing_item(client, admin_user):
    client.force_login(admin_user)
    pro = Tier.objects.get(code="pro")
    client.post(
        reverse("admin:addons_tier_change", args=[pro.pk]),
        {
            "code": "pro",
            "name": "Pro",
            "rank": "2",
            "is_active": "on",
            "price_per_year": "1,00",
            "addon_rules-TOTAL_FORMS": "0",
            "addon_rules-INITIAL_FORMS": "0",
            "price_changes-TOTAL_FORMS": "0",
            "price_changes-INITIAL_FORMS": "0",
        },
    )
    pro.refresh_from_db()
    assert pro.price_per_year == D("24.90")


@pytest.mark.django_db
def test_per_tier_rules_are_edited_inline_on_the_tier(client, admin_user):
    client.force_login(admin_user)
    standard = Tier.objects.get(code="standard")
    page = client.get(reverse("admin:addons_tier_change", args=[standard.pk]))
    formset = next(
        f for f in page.context["inline_admin_formsets"] if f.formset.prefix == "addon_rules"
    )
    assert formset.has_change_permission is True
    assert len(formset.formset.forms) == 5
