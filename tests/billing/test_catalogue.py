import pytest

from billing.catalogue import load_catalogue
from tests.conftest import domain_catalogue


@pytest.mark.django_db
def test_the_migration_seeds_the_catalogue_of_the_domain():
    assert load_catalogue() == domain_catalogue()
