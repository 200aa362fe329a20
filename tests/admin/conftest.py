"""Staff users of the back office: one per group, a staff user with no group, and the
customer alice (not staff)."""

import pytest

from tests.conftest import give_second_factor


def _staff(username: str, group: str | None = None):
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user(username, f"{username}@pecshop.example", "x", is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    give_second_factor(user)  # the admin requires it
    return user


@pytest.fixture
def support(db):
    """A member of "Supporto"."""
    return _staff("sara.supporto", "Supporto")


@pytest.fixture
def accounting(db):
    """A member of "Amministrazione"."""
    return _staff("andrea.amministrazione", "Amministrazione")


@pytest.fixture
def bare_staff(db):
    """Staff with no group: may log in to the admin and see nothing."""
    return _staff("nessun.gruppo")


@pytest.fixture
def as_user(client):
    """A test client logged in as `user`."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def mailbox(make_mailbox):
    """An active Pro mailbox of alice's with 5 GB of Conservazione, expiring 2027-05-25."""
    return make_mailbox(extras={"CONSERVAZIONE": 5})


@pytest.fixture
def bank_order(alice, order_for):
    """A new Pro mailbox ordered by bank transfer, awaiting payment."""
    from tests.billing.test_orders import new_mailbox

    return order_for(new_mailbox(alice, local_part="bonifico"), method="bank_transfer")


@pytest.fixture
def paid_order(alice, order_for, pay):
    """A new Pro mailbox ordered and paid by card: invoiced."""
    from tests.billing.test_orders import new_mailbox

    order = order_for(new_mailbox(alice, local_part="pagata"))
    pay(order)
    order.refresh_from_db()
    return order
