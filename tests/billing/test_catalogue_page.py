from decimal import Decimal

import pytest

from addons.models import AddOn, Tier, TierAddOn

pytestmark = pytest.mark.django_db


def test_the_catalogue_shows_the_three_tiers_with_prices_in_euro(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in [
        "Standard",
        "Pro",
        "Premium",
        "€ 9,90",
        "€ 24,90",
        "€ 39,90",
        "€ 30,38",
        "Conservazione PEC",
        "Funzionalità incluse",
    ]:
        assert text in page


def test_the_catalogue_page_runs_the_same_queries_with_200_addons(
    client, django_assert_max_num_queries
):
    tiers = list(Tier.objects.all())
    for n in range(200):
        addon = AddOn.objects.create(
            code=f"EXTRA_{n}",
            name=f"Extra {n}",
            unit="GB",
            quota="",
            price_per_year=Decimal("1.00"),
            position=100 + n,
        )
        TierAddOn.objects.bulk_create(
            TierAddOn(tier=t, addon=addon, sold=True, max_quantity=10) for t in tiers
        )
    # Cold caches: 3 queries for the page's tables and 4 for the day's price snapshot.
    with django_assert_max_num_queries(7):
        response = client.get("/")
    assert response.status_code == 200
    assert "Extra 199" in response.content.decode()


def test_a_catalogue_change_shows_at_once_on_the_cached_page(client):
    assert "€ 24,90" in client.get("/").content.decode()
    tier = Tier.objects.get(code="pro")
    tier.price_per_year = Decimal("26.90")
    tier.save()
    page = client.get("/").content.decode()
    assert "€ 26,90" in page and "€ 24,90" not in page


def test_the_live_quote_follows_a_catalogue_change(client):
    url = "/api/quote?tier=pro&years=1"
    assert client.get(url).json()["net"] == "24.90"
    addon = AddOn.objects.get(code="CONSERVAZIONE")
    addon.price_per_year = Decimal("5.00")
    addon.save()
    assert client.get(url + "&add=CONSERVAZIONE=1").json()["net"] == "29.90"


def test_the_catalogue_shows_a_scheduled_price_from_its_day(client, admin_user):
    from datetime import timedelta

    from django.utils import timezone

    from addons.models import PriceChange

    tier = Tier.objects.get(code="pro")
    PriceChange.objects.create(
        tier=tier,
        price_per_year=Decimal("26.90"),
        previous_price=tier.price_per_year,
        effective_from=timezone.localdate() - timedelta(days=1),
        created_by=admin_user,
    )
    # The stored current price is not moved yet (the nightly task does that):
    # the page already shows what an order placed today would be charged.
    assert Tier.objects.get(code="pro").price_per_year == Decimal("24.90")
    assert "€ 26,90" in client.get("/").content.decode()
