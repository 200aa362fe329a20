"""Loading the logged-in user: one statement for the user and its customer profile."""

import pytest
from django.contrib.auth import get_user_model

from customers.backends import CustomerBackend, user_with_customer


@pytest.mark.django_db
def test_the_user_and_its_profile_come_in_one_query_with_every_field(
    alice, django_assert_num_queries
):
    expected = get_user_model().objects.select_related("customer").get(pk=alice.user_id)
    with django_assert_num_queries(1):
        user = CustomerBackend().get_user(alice.user_id)
        customer = user.customer  # already loaded
        assert customer.user is user
    for field in get_user_model()._meta.concrete_fields:
        assert getattr(user, field.attname) == getattr(expected, field.attname), field.name
    for field in type(customer)._meta.concrete_fields:
        assert getattr(customer, field.attname) == getattr(alice, field.attname), field.name
    assert user.check_password("Password-Sicura-1")


@pytest.mark.django_db
def test_staff_without_a_profile_a_missing_and_an_inactive_user(
    alice, django_user_model, django_assert_num_queries
):
    staff = django_user_model.objects.create_user("supporto", "s@pecshop.example", "x")
    with django_assert_num_queries(1):
        user = CustomerBackend().get_user(staff.pk)
        assert getattr(user, "customer", None) is None  # no second query either
    assert CustomerBackend().get_user(10**9) is None
    assert user_with_customer("non-un-numero") is None
    django_user_model.objects.filter(pk=alice.user_id).update(is_active=False)
    assert CustomerBackend().get_user(alice.user_id) is None


@pytest.mark.django_db
def test_a_logged_in_page_sees_the_account_through_the_backend(alice, client):
    client.force_login(alice.user)
    response = client.get("/area-clienti/")
    assert response.status_code == 200
    assert response.wsgi_request.user.customer.pk == alice.pk


@pytest.mark.django_db
def test_the_same_statement_says_whether_a_second_factor_is_confirmed(
    alice, client, django_assert_num_queries
):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from customers.security import has_two_factor
    from tests.conftest import give_second_factor

    TOTPDevice.objects.create(user=alice.user, name="in prova", confirmed=False)
    with django_assert_num_queries(1):
        user = CustomerBackend().get_user(alice.user_id)
        assert user.two_factor_as_loaded is False  # one being set up is no second factor
        assert has_two_factor(user, as_loaded=True) is False
    client.force_login(alice.user)
    assert "Attiva la verifica in due passaggi" in client.get("/area-clienti/").content.decode()

    give_second_factor(alice.user)
    with django_assert_num_queries(1):
        assert CustomerBackend().get_user(alice.user_id).two_factor_as_loaded is True
    assert has_two_factor(user) is True  # a decision asks the database, not the loaded flag
    page = client.get("/area-clienti/")
    assert page.status_code == 200
    assert "Attiva la verifica in due passaggi" not in page.content.decode()
