import pytest

from billing.catalogue import load_catalogue
from tests.conftest import domain_catalogue


@pytest.mark.django_db
def test_the_migration_seeds_the_catalogue_of_the_domain():
    assert load_catalogue() == domain_catalogue()


@pytest.mark.django_db
def test_the_catalogue_of_a_day_takes_the_price_changes_in_effect_that_day():
    from datetime import date
    from decimal import Decimal

    from addons.models import Tier
    from addons.services import price_change_schedule

    price_change_schedule(
        tier=Tier.objects.get(code="premium"),
        price=Decimal("44.90"),
        effective_from=date(2027, 1, 1),
        today=date(2026, 11, 25),
    )
    assert load_catalogue(on=date(2026, 12, 31)) == domain_catalogue()
    assert load_catalogue(on=date(2027, 1, 1)).tier("premium").price_per_year == Decimal("44.90")


def test_kept_renderings_drop_the_least_recently_used_first(monkeypatch):
    from billing import catalogue_cache

    monkeypatch.setattr(catalogue_cache, "MAX_FRAGMENTS", 3)
    monkeypatch.setattr(catalogue_cache, "catalogue_version", lambda: "v1")
    catalogue_cache.forget_local_copies()
    renders = []

    def kept(name):
        return catalogue_cache.cached_fragment(name, lambda: renders.append(name) or name)

    for name in ("a", "b", "c"):
        kept(name)
    kept("a")  # used again: now the most recent
    kept("d")  # one too many: "b" goes, not "a"
    kept("a")
    kept("b")
    assert renders == ["a", "b", "c", "d", "b"]
    catalogue_cache.forget_local_copies()
