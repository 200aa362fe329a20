import tempfile
from decimal import Decimal

import pytest
from django.test import Client

from billing.pricing import AddOnInfo, Catalogue, Rule, TierInfo

D = Decimal


def pytest_configure(config):
    """A fast password hasher. Without Redis the shop caches in files under VAR_DIR, shared with a running server:
    a test run gets a folder of its own, so neither clears the other's cache."""
    from django.conf import settings

    # Hashing a password with PBKDF2 takes most of a second; the tests log in all the time
    # and test no property of the hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    default = settings.CACHES["default"]
    if default["BACKEND"].endswith("FileBasedCache"):
        default["LOCATION"] = tempfile.mkdtemp(prefix="pecshop-test-cache-")


# The longest test (the fuzz run, about 30 s) starts first, so that in a parallel run (make
# test) no worker is left alone with it at the end. It is a plain database test, the group
# pytest-django runs first, so moving it to the front keeps pytest-django's order of groups.
# The transactional tests keep their order: their serialized rollback has been seen to leave
# an empty database to the next test when the browser tests ran earlier than in file order.
LONGEST_FIRST = "tests/test_fuzz.py"


def pytest_collection_modifyitems(config, items):
    """Every test that commits for real (transaction=True, a live server) gets the seeded
    rows back by serialized rollback. Mixing the two kinds breaks: the flush after a test
    without it runs post_migrate, which writes content types and permissions again, and the
    next test with it then fails loading the same rows. The fuzz run goes first (above)."""
    items.sort(key=lambda item: not item.nodeid.startswith(LONGEST_FIRST))  # stable
    for item in items:
        marker = item.get_closest_marker("django_db")
        transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
            name in item.fixturenames for name in ("transactional_db", "live_server")
        )
        if transactional and not (marker is not None and marker.kwargs.get("serialized_rollback")):
            kwargs = {**(marker.kwargs if marker else {}), "transaction": True}
            item.add_marker(pytest.mark.django_db(**kwargs, serialized_rollback=True), append=False)


def domain_catalogue() -> Catalogue:
    """The catalogue exactly as docs/product-rules.md lists it, with no database."""
    tiers = {
        "standard": TierInfo("standard", "Standard", D("9.90"), 1),
        "pro": TierInfo("pro", "Pro", D("24.90"), 2),
        "premium": TierInfo("premium", "Premium", D("39.90"), 3),
    }
    addons = {
        "SPAZIO": AddOnInfo("SPAZIO", "Spazio aggiuntivo casella", "GB", D("3.00"), "mailbox", 10),
        "ARCHIVIO": AddOnInfo(
            "ARCHIVIO", "Spazio aggiuntivo Archivio di sicurezza", "GB", D("3.00"), "archive", 20
        ),
        "CONSERVAZIONE": AddOnInfo(
            "CONSERVAZIONE", "Conservazione PEC", "GB", D("4.00"), "conservation", 30
        ),
        "MULTIUTENTE": AddOnInfo(
            "MULTIUTENTE", "Utenti aggiuntivi Multiutente", "USER", D("6.00"), "", 40
        ),
        "SMS": AddOnInfo("SMS", "Avviso SMS di ricezione", "SERVICE", D("4.00"), "", 50),
    }
    rules = {
        ("standard", "SPAZIO"): Rule(True, 1, 1),
        ("pro", "SPAZIO"): Rule(True, 100, 2),
        ("premium", "SPAZIO"): Rule(True, 100, 2),
        ("standard", "ARCHIVIO"): Rule(False, 0, 0),
        ("pro", "ARCHIVIO"): Rule(True, 100, 3),
        ("premium", "ARCHIVIO"): Rule(True, 100, 8),
        ("standard", "CONSERVAZIONE"): Rule(True, 100, 0),
        ("pro", "CONSERVAZIONE"): Rule(True, 100, 0),
        ("premium", "CONSERVAZIONE"): Rule(True, 100, 0),
        ("standard", "MULTIUTENTE"): Rule(False, 0, 0),
        ("pro", "MULTIUTENTE"): Rule(False, 0, 1),
        ("premium", "MULTIUTENTE"): Rule(True, 30, 3),
        ("standard", "SMS"): Rule(True, 1, 0),
        ("pro", "SMS"): Rule(False, 0, 1),
        ("premium", "SMS"): Rule(False, 0, 1),
    }
    return Catalogue(tiers=tiers, addons=addons, rules=rules)


@pytest.fixture
def catalogue() -> Catalogue:
    return domain_catalogue()


# --- database fixtures: an owner, a second customer and a stranger -----------------------

PERSON = {
    "kind": "person",
    "first_name": "Alice",
    "last_name": "Rossi",
    "fiscal_code": "RSSMRA85T10A562S",
    "street": "Via Roma 1",
    "postal_code": "00184",
    "city": "Roma",
    "province": "RM",
    "email": "alice@example.it",
}
COMPANY = {
    "kind": "company",
    "company_name": "Bianchi S.r.l.",
    "vat_number": "00743110157",
    "fiscal_code": "00743110157",
    "legal_representative": "Laura Bianchi",
    "street": "Corso Buenos Aires 10",
    "postal_code": "20124",
    "city": "Milano",
    "province": "MI",
    "email": "info@bianchi.example",
    "sdi_code": "M5UXCR1",
}


def make_customer(email: str, holder: dict | None = None):
    from customers.services import customer_create, holder_create

    customer = customer_create(email=email, password="Password-Sicura-1", validate=False)
    holder_create(customer=customer, own=True, **{**(holder or PERSON), "email": email})
    return customer


@pytest.fixture
def alice(db):
    """The owner of the mailboxes under test."""
    return make_customer("alice@example.it")


@pytest.fixture
def bob(db):
    """Another customer of the shop."""
    return make_customer(
        "bob@example.it",
        {**PERSON, "first_name": "Bob", "last_name": "Verdi", "fiscal_code": "VRDGPP80A01F205X"},
    )


@pytest.fixture
def charlie(db):
    """A stranger: a logged-in user with no customer profile."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("charlie@example.it", "charlie@example.it", "x")


@pytest.fixture
def tiers(db):
    from addons.models import Tier

    return {t.code: t for t in Tier.objects.all()}


@pytest.fixture
def addons(db):
    from addons.models import AddOn

    return {a.code: a for a in AddOn.objects.all()}


@pytest.fixture
def make_mailbox(alice, tiers, addons):
    """An active mailbox of alice's, activated on `activated_on` for `years`."""
    from datetime import date

    from mailboxes.services import mailbox_activate, mailbox_create

    def make(
        address="studio@pec.it",
        tier="pro",
        years=1,
        activated_on=date(2026, 5, 25),
        extras=None,
        customer=None,
        holder=None,
    ):
        owner = customer or alice
        mailbox = mailbox_create(
            address=address,
            tier=tiers[tier],
            holder=holder or owner.own_holder,
            customer=owner,
            term_years=years,
            addons={addons[c]: q for c, q in (extras or {}).items()},
        )
        return mailbox_activate(mailbox=mailbox, activated_on=activated_on)

    return make


@pytest.fixture
def saved_card(alice):
    """Alice's card saved at the test gateway (Visa 4242): an off-session charge succeeds
    unless a test sets `decline` or `authentication_required` on what this yields; the ids
    of the payments charged are in its `charged`."""
    from billing.gateways import CardDetails
    from billing.payments import TestCardOutcomes
    from billing.services.saved_cards import saved_card_record

    saved_card_record(
        customer=alice,
        gateway="test",
        details=CardDetails("test-customer", "test-card-alice", "Visa", "4242", 12, 2030),
    )
    TestCardOutcomes.decline = TestCardOutcomes.authentication_required = False
    TestCardOutcomes.charged = []
    yield TestCardOutcomes
    TestCardOutcomes.decline = TestCardOutcomes.authentication_required = False
    TestCardOutcomes.charged = []


@pytest.fixture(autouse=True)
def _celery_runs_tasks_in_process():
    """Tasks run in the test's process (a real worker is used only where a test says so)."""
    from pecshop.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def order_for(alice):
    """Place an order of `specs` for a customer (alice by default)."""
    import uuid
    from datetime import date

    from billing.services.orders import order_place

    def place(*specs, customer=None, method="card", today=date(2026, 11, 25)):
        return order_place(
            customer=customer or alice,
            items=list(specs),
            payment_method=method,
            placement_key=uuid.uuid4().hex,
            today=today,
        )

    return place


@pytest.fixture
def pay():
    """Pay an order through the test gateway, as its confirmation would."""
    from payments import PaymentStatus

    from billing.services.payments import payment_apply, payment_start

    def do(order, amount=None, reference=None, paid_on=None):
        from datetime import date

        payment = payment_start(order=order)
        payment.transaction_id = reference or f"test-{payment.token}"
        payment.captured_amount = order.total if amount is None else amount
        payment.status = PaymentStatus.CONFIRMED
        payment.save()
        return payment, payment_apply(payment_id=payment.pk, paid_on=paid_on or date(2026, 11, 25))

    return do


def ensure_catalogue() -> None:
    """Transactional tests flush the database, seeded catalogue included: seed it again."""
    import importlib

    from django.apps import apps

    from addons.models import Tier

    if not Tier.objects.exists():
        importlib.import_module("addons.migrations.0002_seed_catalogue").seed(apps, None)


@pytest.fixture(autouse=True)
def _fresh_catalogue_cache():
    """Each test starts with an empty cache (the cached catalogue included)."""
    from django.core.cache import cache

    from billing import catalogue_cache

    cache.clear()
    catalogue_cache.forget_local_copies()
    yield


@pytest.fixture(autouse=True)
def _sdi_folders(settings, tmp_path_factory):
    """Documents for the SDI go through the `folder` channel into a folder of the test's own."""
    base = tmp_path_factory.mktemp("sdi")
    settings.SDI_CHANNEL = "folder"
    settings.SDI_FOLDER_OUT = base / "uscita"
    settings.SDI_FOLDER_IN = base / "ricevute"


# --- logging in: staff with a second factor --------------------------------------------------


def give_second_factor(user):
    """A confirmed authenticator-app device for `user` (staff need one for the admin)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=True, defaults={"name": "App di autenticazione"}
    )
    return device


class SecondFactorClient(Client):
    """`force_login` as if the user had also typed the code of a device they have set up:
    the session is verified when the user has a confirmed device, and only then (staff
    without one are still sent to set it up)."""

    def force_login(self, user, backend=None):
        from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user

        super().force_login(user, backend)
        device = next(devices_for_user(user, confirmed=True), None)
        if device is not None:
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()


@pytest.fixture
def client():
    return SecondFactorClient()


@pytest.fixture
def admin_user(db, django_user_model):
    """pytest-django's superuser, with a second factor as the admin requires."""
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "password")
    give_second_factor(user)
    return user
