"""Schemathesis against a live server: every operation of /api/v1/ with a read-and-buy
token on the test gateway, a bounded number of generated requests each. No answer may be
a 5xx, nor contradict the schema (status code, content type, body)."""

import os
from datetime import date

import pytest

# Serialized rollback: the seeded catalogue is there at the start, and the flush at the end
# leaves the database as the other serialized tests (tests/billing/test_concurrency.py) expect.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))


@pytest.fixture
def account(live_server, settings, make_mailbox, make_token, alice, bob, pay, order_for):
    from billing.services.items import ItemSpec
    from tests.conftest import ensure_catalogue

    ensure_catalogue()
    settings.PAYMENT_GATEWAY = "test"
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    settings.SITE_URL = live_server.url
    first = make_mailbox("uno@pec.it", "pro", activated_on=date(2026, 5, 25))
    make_mailbox("due@pec.it", "standard", activated_on=date(2026, 1, 31), extras={"SMS": 1})
    make_mailbox("tre@pec.it", "premium", activated_on=date(2026, 3, 1))
    make_mailbox("bob@pec.it", customer=bob)
    pay(order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, first.pk)))
    _, raw = make_token(alice, "buy")
    return raw


def test_no_operation_answers_a_5xx_or_contradicts_the_schema(live_server, account):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    headers = {"Authorization": f"Bearer {account}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    covered = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            response = case.call(base_url=live_server.url, headers=headers, timeout=30)
            case.validate_response(response, checks=checks)

        run()
        covered.append(f"{operation.method.upper()} {operation.path}")
    assert len(covered) == len(operations)
