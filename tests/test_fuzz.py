"""Every URL pattern of the project, resolved from the URLconf, asked with hostile input:
anonymous, as a customer, in a mailbox-credential session and as staff. Path parameters,
query strings and the fields each page's forms show (read from the page itself) get empty
and 10,000-character values, NUL bytes, emoji, negative, huge and non-finite numbers,
malformed dates and repeated parameters; every page is also asked with the wrong methods.
Nothing may answer 5xx."""

import re
import uuid
from collections import Counter

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.urls import URLResolver, get_resolver

from billing.models import Invoice
from mailboxes.models import Mailbox
from tests.billing.test_orders import new_mailbox
from tests.conftest import SecondFactorClient, give_second_factor

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

HOSTILE = [
    "",
    "x" * 10_000,
    "\x00",
    "a\x00b",
    "😀🇮🇹",
    "-1",
    "-99999999999999999999",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "-Infinity",
    "2026-02-30",
    "31/12/2026",
    "0000-00-00",
    "9999-99-99T99:99",
    "' OR 1=1 --",
]
# Fewer for the many admin pages: each form is still asked with every kind of trouble.
HOSTILE_SHORT = [
    "",
    "x" * 10_000,
    "\x00",
    "😀",
    "-1",
    "99999999999999999999999999",
    "NaN",
    "2026-02-30",
]

# Query parameters the project reads (area filters and paging, the quote API, admin lists).
KNOWN_PARAMS = [
    "q", "stato", "tipologia", "scadenza", "pagina", "pagina_mie", "pagina_altri", "page",
    "next", "tier", "years", "expires", "today", "has", "add", "keep", "renew_years",
    "to_tier", "local_part", "domain", "ids", "o", "p", "e", "all", "token", "outcome",
    "status__exact", "expires_on__gte", "expires_on__lt", "issued_on__year", "kind__exact",
]  # fmt: skip

FIELD_NAME = re.compile(r"<(?:input|select|textarea)\b[^>]*\bname=\"([^\"]+)\"", re.IGNORECASE)
SKIP_POST = re.compile(r"(^/admin/.*/delete/$|/esci/$|^/admin/logout/$)")


def url_patterns():
    """(route template, converters by name) for every endpoint of the URLconf."""

    def walk(resolver, prefix, converters):
        for pattern in resolver.url_patterns:
            route, convs = template_of(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, prefix + route, {**converters, **convs})
            else:
                yield prefix + route, {**converters, **convs}

    return list(walk(get_resolver(), "/", {}))


def template_of(pattern) -> tuple[str, dict]:
    """A route with `{name}` placeholders, and each name's kind (int, str, slug, ...)."""
    if hasattr(pattern, "_route"):
        kinds = {}

        def placeholder(match):
            kind, name = (match.group(1) or "str"), match.group(2)
            kinds[name] = kind
            return "{" + name + "}"

        route = re.sub(r"<(?:(\w+):)?(\w+)>", placeholder, str(pattern._route))
        return route, kinds
    regex = pattern._regex.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\.", ".")
    kinds = {}

    def group(match):
        kinds[match.group(1)] = "regex:" + match.group(2)
        return "{" + match.group(1) + "}"

    return re.sub(r"\(\?P<(\w+)>([^)]*)\)", group, regex), kinds


@pytest.fixture
def world(alice, bob, order_for, pay, make_mailbox, tiers, addons, django_user_model):
    order = order_for(new_mailbox(alice, local_part="fuzz"))
    pay(order)
    mailbox = Mailbox.objects.get(address="fuzz@pec.it")
    Mailbox.objects.filter(pk=mailbox.pk).update(password=make_password("Casella-Segreta-1"))
    bobs = make_mailbox(address="bob.fuzz@pec.it", customer=bob)
    staff = django_user_model.objects.create_superuser("capo", "capo@pecshop.example", "x")
    give_second_factor(staff)
    return {
        "mailbox": mailbox,
        "bobs": bobs,
        "order": order,
        "invoice": Invoice.objects.get(order=order),
        "staff": staff,
    }


def values_for(name: str, kind: str, world) -> list[str]:
    mailbox, order, _invoice = world["mailbox"], world["order"], world["invoice"]
    real = {
        "pk": str(mailbox.pk),
        "number": order.number,
        "tier": "pro",
        "action": "rinnova",
        "fmt": "pdf",
        "item_id": "1",
        "object_id": str(mailbox.pk),
        "token": str(uuid.uuid4()),
        "uidb64": "MQ",
        "slug": "utilizzo",
    }.get(name, "1")
    if kind.startswith("regex:"):
        options = kind[len("regex:") :]
        if "|" in options:
            return [options.split("|")[0].strip("()"), "nessuna"]
        if name == "variant":
            return ["card", "nessuna"]
        return [real, "😀", "%00"]
    if kind == "int":
        return [real, str(world["bobs"].pk), "0", "99999999999999999999999"]
    if kind == "uuid":
        return [str(uuid.uuid4())]
    if kind == "slug":
        slugs = {"action": ["rinnova", "acquista", "aumenta", "upgrade", "multiutente"]}
        return [*slugs.get(name, [real]), "x" * 300, "-1"]
    if kind == "path":
        return [real, "abc", "99999999999999999999", "%F0%9F%98%80", "1/%00"]
    return [real, "😀", "x" * 2000, "%00", "2026-0001", "-1"]


def paths_for(template: str, kinds: dict, world) -> list[str]:
    """The route with real values, then each parameter in turn given hostile ones."""
    names = list(kinds)
    options = {name: values_for(name, kinds[name], world) for name in names}
    first = {name: options[name][0] for name in names}
    paths = [template.format(**first)]
    for name in names:
        for value in options[name][1:]:
            paths.append(template.format(**{**first, name: value}))
    return paths


class Fuzzer:
    def __init__(self):
        self.count = 0
        self.errors: list[str] = []
        self.statuses = Counter()

    def ask(self, client, method: str, path: str, **kwargs):
        self.count += 1
        try:
            response = getattr(client, method)(path, **kwargs)
        except Exception as error:  # a crash that escaped even the 500 handler
            self.errors.append(
                f"{method.upper()} {path[:120]} {kwargs.get('data', '')!s:.80}: {error!r:.200}"
            )
            return None
        self.statuses[response.status_code // 100] += 1
        readiness = path.startswith("/readyz") and response.status_code == 503
        if response.status_code >= 500 and not readiness:  # 503: "not ready", by design
            data = kwargs.get("data")
            self.errors.append(
                f"{response.status_code} {method.upper()} {path[:120]} {str(data)[:120]}"
            )
        return response


def field_names(response) -> list[str]:
    if response is None or response.status_code != 200:
        return []
    if not response.get("Content-Type", "").startswith("text/html"):
        return []
    names = set(FIELD_NAME.findall(response.content.decode(errors="replace")))
    return sorted(names - {"csrfmiddlewaretoken"})


def fuzz_page(
    fuzzer: Fuzzer, client, path: str, hostile: list[str], deep: bool, fixed: dict | None = None
):
    page = fuzzer.ask(client, "get", path)
    if not deep:
        return
    fields = field_names(page)
    for value in hostile[::2]:  # the forms below get every value
        fuzzer.ask(client, "get", path, data=dict.fromkeys(KNOWN_PARAMS, value))
    fuzzer.ask(
        client, "get", f"{path}?q=a&q=b&tier=pro&tier=premium&pagina=1&pagina=2&years=1&years=-1"
    )
    for method in ("put", "delete"):
        fuzzer.ask(client, method, path, data="\x00{}", content_type="application/json")
    if SKIP_POST.search(path):
        return
    for value in hostile:
        data = {**dict.fromkeys(fields or KNOWN_PARAMS[:8], value), **(fixed or {})}
        fuzzer.ask(client, "post", path, data=data)
    if fields:
        # Repeated fields, and a JSON body where a form is expected.
        fuzzer.ask(client, "post", path, data={name: ["1", "-1", "x"] for name in fields})
        fuzzer.ask(
            client,
            "post",
            path,
            data='{"a": "\\u0000", "n": 1e999}',
            content_type="application/json",
        )


def test_no_input_gets_a_server_error(world, settings):
    if connection.vendor != "postgresql":
        pytest.skip("the fuzz run is for PostgreSQL, where NUL bytes and ranges matter")
    settings.API_RATE_LIMIT = 1_000_000
    settings.AXES_FAILURE_LIMIT = 1_000_000
    # No Celery worker runs here: /readyz answers 503 at once instead of waiting 2 s for
    # a ping at every request (the readiness checks have tests of their own).
    settings.HEALTH_WORKER_TIMEOUT = 0.01
    fuzzer = Fuzzer()
    patterns = url_patterns()
    assert len(patterns) > 100  # the shop, the Area Clienti, payments and the admin

    def clients():
        anonymous = SecondFactorClient(raise_request_exception=False)
        customer = SecondFactorClient(raise_request_exception=False)
        customer.force_login(world["mailbox"].customer.user)
        mailbox_session = SecondFactorClient(raise_request_exception=False)
        mailbox_session.post(
            "/area-clienti/accedi-casella/",
            {"address": "fuzz@pec.it", "password": "Casella-Segreta-1"},
        )
        staff = SecondFactorClient(raise_request_exception=False)
        staff.force_login(world["staff"])
        return anonymous, customer, mailbox_session, staff

    anonymous, customer, mailbox_session, staff = clients()
    for template, kinds in patterns:
        is_admin = template.startswith("/admin/")
        paths = paths_for(template, kinds, world)[: 3 if is_admin else None]
        hostile = HOSTILE_SHORT if is_admin else HOSTILE
        who = [staff] if is_admin else [customer, anonymous]
        if template.startswith("/area-clienti/"):
            who.append(mailbox_session)
        for index, path in enumerate(paths):
            for position, client in enumerate(who):
                fuzz_page(fuzzer, client, path, hostile, deep=index == 0 and position == 0)
            if is_admin and index == 0:
                fuzzer.ask(anonymous, "get", path)
            if index == 0 and not is_admin and len(who) > 1:
                # The others get the hostile query too, not the forms.
                for client in who[1:]:
                    for value in hostile[1:4]:
                        fuzzer.ask(client, "get", path, data=dict.fromkeys(KNOWN_PARAMS, value))

    # The admin's operation pages on a real row (their forms need the row's id).
    from billing.admin import OrderAdmin
    from mailboxes.admin import MailboxAdmin

    for model_path, admin_class, pk in (
        ("mailboxes/mailbox", MailboxAdmin, world["mailbox"].pk),
        ("billing/order", OrderAdmin, world["order"].pk),
    ):
        for operation in admin_class.operations:
            path = f"/admin/{model_path}/operazioni/{operation.slug}/?ids={pk}"
            fuzz_page(fuzzer, staff, path, HOSTILE, deep=True, fixed={"ids": str(pk)})

    # The payment library's provider-wide webhook URL, with and without a body.
    for body in ("", "{}", '{"token": "nessuno"}', '{"token": 5}', "[]", "\x00"):
        fuzzer.ask(
            SecondFactorClient(raise_request_exception=False),
            "post",
            "/pagamenti/process/card/",
            data=body,
            content_type="application/json",
        )

    print(f"\n{fuzzer.count} requests over {len(patterns)} URL patterns: {dict(fuzzer.statuses)}")
    assert fuzzer.count >= 2000
    assert fuzzer.errors == [], "\n".join(fuzzer.errors[:60])
