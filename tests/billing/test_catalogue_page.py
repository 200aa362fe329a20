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
    with django_assert_max_num_queries(4):
        response = client.get("/")
    assert response.status_code == 200
    assert "Extra 199" in response.content.decode()
