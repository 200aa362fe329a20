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
    catalogue_cache.forget_local_copies()
    renders = []
    snapshot = domain_catalogue()

    def kept(name):
        return catalogue_cache.cached_fragment(
            name, lambda: renders.append(name) or name, catalogue=snapshot
        )

    for name in ("a", "b", "c"):
        kept(name)
    kept("a")  # used again: now the most recent
    kept("d")  # one too many: "b" goes, not "a"
    kept("a")
    kept("b")
    assert renders == ["a", "b", "c", "d", "b"]
    catalogue_cache.forget_local_copies()


def test_a_rendering_is_kept_for_one_catalogue_content_only():
    from dataclasses import replace
    from decimal import Decimal

    from billing import catalogue_cache

    catalogue_cache.forget_local_copies()
    before = domain_catalogue()
    pro = replace(before.tiers["pro"], price_per_year=Decimal("26.90"))
    after = replace(before, tiers={**before.tiers, "pro": pro})
    assert catalogue_cache.catalogue_fingerprint(before) == catalogue_cache.catalogue_fingerprint(
        domain_catalogue()
    )
    assert catalogue_cache.cached_fragment("p", lambda: "old", catalogue=before) == "old"
    assert catalogue_cache.cached_fragment("p", lambda: "new", catalogue=after) == "new"
    assert catalogue_cache.cached_fragment("p", lambda: "again", catalogue=before) == "old"
    catalogue_cache.forget_local_copies()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_catalogue_change_is_seen_by_another_connection_only_once_committed_and_then_at_once():
    """Two connections (the admin's, in a thread, and a shop request's): while the admin's
    transaction is open the shop sees the old price, and the catalogue page rendered then
    is not served after the commit."""
    import threading
    from decimal import Decimal

    from django.db import connection, transaction
    from django.test import Client

    from addons.models import Tier
    from billing.catalogue_cache import current_catalogue

    if connection.vendor != "postgresql":
        pytest.skip("two connections at once need PostgreSQL (CI runs it)")
    changed, release, done = threading.Event(), threading.Event(), threading.Event()

    def admin_saves_a_new_price():
        try:
            with transaction.atomic():
                tier = Tier.objects.get(code="pro")
                tier.price_per_year = Decimal("26.90")
                tier.save()
                changed.set()
                release.wait(10)
        finally:
            connection.close()
            done.set()

    shop = Client()
    assert "24,90" in shop.get("/").content.decode()
    admin = threading.Thread(target=admin_saves_a_new_price)
    admin.start()
    assert changed.wait(10)
    # Not committed: the old price, on the page too.
    assert current_catalogue().tier("pro").price_per_year == Decimal("24.90")
    assert "24,90" in shop.get("/").content.decode()
    release.set()
    assert done.wait(10)
    admin.join()
    # Committed: the very next request of any process sees it.
    assert current_catalogue().tier("pro").price_per_year == Decimal("26.90")
    page = shop.get("/").content.decode()
    assert "26,90" in page and "24,90" not in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_database_moves_the_version_on_any_write_and_a_rolled_back_change_is_never_served():
    """No code invalidates anything: raw SQL is seen at once, and what a transaction saw of
    its own change is never served once it rolled back."""
    from decimal import Decimal

    from django.db import connection, transaction

    from addons.models import Tier
    from billing.catalogue_cache import current_catalogue

    if connection.vendor != "postgresql":
        pytest.skip("the version is kept by PostgreSQL triggers")
    first = current_catalogue()
    assert current_catalogue() is first  # the same version: built once, one small query

    with connection.cursor() as cursor:  # no model, no signal, no service
        cursor.execute("UPDATE addons_tier SET price_per_year = 26.90 WHERE code = 'pro'")
    assert current_catalogue().tier("pro").price_per_year == Decimal("26.90")

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        Tier.objects.filter(code="pro").update(price_per_year=Decimal("99.00"))
        assert current_catalogue().tier("pro").price_per_year == Decimal("99.00")  # its own
        raise Undo
    assert current_catalogue().tier("pro").price_per_year == Decimal("26.90")
    Tier.objects.filter(code="premium").update(price_per_year=Decimal("41.90"))
    assert current_catalogue().tier("pro").price_per_year == Decimal("26.90")
    assert current_catalogue().tier("premium").price_per_year == Decimal("41.90")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_dashboard_learns_the_version_from_its_own_listing_and_sees_a_change_at_once(
    make_mailbox, alice
):
    """The mailbox list reads the catalogue's version in its own statement: no statement of
    the version alone, and a change (raw SQL, nothing invalidated) shows on the next page."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("the version is kept by PostgreSQL triggers")
    make_mailbox()
    client = Client()
    client.force_login(alice.user)
    assert "Pro" in client.get("/area-clienti/").content.decode()
    with CaptureQueriesContext(connection) as queries:
        client.get("/area-clienti/")
    assert not [q for q in queries if q["sql"].startswith("SELECT (SELECT number")]
    assert any("addons_catalogue_version" in q["sql"] for q in queries)  # in the listing

    with connection.cursor() as cursor:  # no model, no signal, no service
        cursor.execute("UPDATE addons_tier SET name = 'Professionale' WHERE code = 'pro'")
    page = client.get("/area-clienti/").content.decode()
    assert '<option value="pro">Professionale</option>' in page  # the filter: the catalogue
