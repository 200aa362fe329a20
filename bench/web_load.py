"""Load benchmark of the shop's pages under gunicorn with production settings.

Against PostgreSQL, in its own database (`pecshop_webbench`, created and dropped), it
starts gunicorn on 127.0.0.1 and drives each page with wrk (Debian's `wrk` package) from a
second process on loopback, for the same duration each, in one run:

- /bench/minimal: a Django view that returns "ok" (the baseline),
- / (the catalogue), /carrello/ with 3 mailboxes, /api/quote, /api/v1/mailboxes (a token),
- the Area Clienti dashboard with 50 mailboxes and a mailbox page, rendered on every
  request (nothing keeps a rendered page; each request also asks a new query string),

and, in the same run, the median time of one dashboard render (50 mailboxes) through
Django's test client in one process, without the server.

The baseline is measured again between every two pages, and each page's ratio is taken
against the mean of the baseline just before and just after it: the machines are shared,
and their speed drifts by tens of percent within minutes, which a single baseline measured
at the start would put into every ratio.

It prints requests per second, p50/p95/p99 latency, errors, and each page's ratio to the
baseline around it, with the target of each, and exits non-zero when a target is missed.

    .venv/bin/python bench/web_load.py [--seconds 15] [--connections 16] [--workers 4]
        [--only dashboard]
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = os.environ.get("BENCH_DB_NAME", "pecshop_webbench")
PORT = int(os.environ.get("BENCH_PORT", "8055"))
SECRET = "bench-" + "k3y" * 20
DASHBOARD_MS_TARGET = 8

WRK_SCRIPT = """
-- With MISS set, every request asks a new query string, so no cache keyed by the URL (in
-- the shop or in front of it) could answer.
local counter = 0
request = function()
  if os.getenv("MISS") then
    counter = counter + 1
    local path = wrk.path .. (wrk.path:find("?", 1, true) and "&" or "?") .. "r=" .. counter
      .. "-" .. tostring(math.random(1, 1e9))
    return wrk.format(nil, path)
  end
  return wrk.format()
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %d %.3f %.3f %.3f %.3f %d\\n", summary.requests,
    summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, errors))
end
"""


def _admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(BASE_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)


def _env() -> dict:
    server = BASE_URL.rsplit("/", 1)[0]
    env = {
        **os.environ,
        "DATABASE_URL": f"{server}/{BENCH_DB}",
        "DEBUG": "false",
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "BENCHMARK_VIEWS": "true",
        # wrk drives /api/quote from one address far past the per-address rate limit.
        "API_RATE_LIMIT": "100000000",
        "API_RATE_LIMIT_PER_MINUTE": "1000000000",  # wrk is one client with one token
        "LOG_LEVEL": "WARNING",
        "VAR_DIR": tempfile.mkdtemp(prefix="pecshop-webbench-"),
        "STATIC_ROOT": tempfile.mkdtemp(prefix="pecshop-webbench-static-"),
    }
    # Production-like: the cache (and Celery's broker) in Redis, on a database of its own.
    env["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    return env


SETUP = """
import django, json
django.setup()
from datetime import date
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.test import Client
from billing.models import Cart, CartItem
call_command("seed_demo", verbosity=0)
session = SessionStore(); session.create()
cart = Cart.objects.create(session_key=session.session_key)
for n in range(3):
    CartItem.objects.create(cart=cart, kind="new_mailbox", params={
        "tier": "pro", "local_part": f"carrello{n}", "domain": "pec.it", "years": 2,
        "addons": {"CONSERVAZIONE": 5}})
# A logged-in customer with 50 mailboxes, for the Area Clienti pages.
from addons.models import Tier
from customers.services import customer_create, holder_create
from mailboxes.models import Mailbox
from django.test import Client
customer = customer_create(email="bench@example.it", password="x", validate=False)
holder = holder_create(customer=customer, own=True, kind="person", first_name="Bench",
    last_name="Cliente", fiscal_code="RSSMRA85T10A562S", street="Via Roma 1",
    postal_code="00184", city="Roma", province="RM", email="bench@example.it")
pro = Tier.objects.get(code="pro")
Mailbox.objects.bulk_create(
    Mailbox(address=f"bench{n:02d}@pec.it", tier=pro, holder=holder, customer=customer,
            term_years=1, status="active", activated_on=date(2026, 6, 1),
            expires_on=date(2027, 6, 1), usage_mailbox_mb=20 * n)
    for n in range(50))
client = Client(); client.force_login(customer.user)
first = Mailbox.objects.filter(customer=customer).order_by("pk").first()
# The in-process figure: one dashboard render through the test client, median of many.
# Without setup_test_environment(): its instrumented template rendering (a signal and a copy
# of the context for every template, for tests that inspect them) is no cost of the shop's.
import statistics, time
timer = Client(SERVER_NAME="localhost"); timer.force_login(customer.user)
for _ in range(10):
    assert timer.get("/area-clienti/").status_code == 200
times = []
for _ in range(200):
    start = time.perf_counter()
    timer.get("/area-clienti/")
    times.append((time.perf_counter() - start) * 1000)
from api.services import token_create
_, api_token = token_create(customer=customer, name="bench", scope="read", expires_on=None,
                            today=date.today())
print(json.dumps({"cart_session": session.session_key,
                  "area_session": client.cookies["sessionid"].value, "mailbox": first.pk,
                  "dashboard_ms": statistics.median(times), "api_token": api_token}))
"""


def _wrk(
    url: str, seconds: int, connections: int, cookie: str | None, script: str, miss: bool = False
) -> dict:
    threads = str(min(2, connections))
    command = ["wrk", "-t", threads, "-c", str(connections), "-d", f"{seconds}s", "-s", script, url]
    if cookie:  # a session cookie, or an API token's whole header
        header = cookie if cookie.startswith("Authorization:") else f"Cookie: {cookie}"
        command[1:1] = ["-H", header]
    env = (
        {**os.environ, "MISS": "1"}
        if miss
        else {k: v for k, v in os.environ.items() if k != "MISS"}
    )
    output = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
    match = re.search(r"RESULT (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", output)
    requests, duration, p50, p95, p99, errors = match.groups()
    return {
        "rps": int(requests) / float(duration),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "errors": int(errors),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument(
        "--only",
        default="",
        help="measure only the pages whose label contains this text (the baseline always runs)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2

    env = _env()
    python = sys.executable
    _admin_sql(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    _admin_sql(f"CREATE DATABASE {BENCH_DB}")
    server = None
    try:
        run = {"cwd": ROOT, "env": env, "check": True}
        subprocess.run([python, "manage.py", "migrate", "-v0"], **run)
        subprocess.run([python, "manage.py", "collectstatic", "--noinput", "-v0"], **run)
        setup = subprocess.run(
            [python, "-c", SETUP],
            capture_output=True,
            text=True,
            **{**run, "env": {**env, "DJANGO_SETTINGS_MODULE": "pecshop.settings"}},
        )
        ids = json.loads(setup.stdout.strip().splitlines()[-1])
        cart_session, area_session = ids["cart_session"], ids["area_session"]
        server = subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                "pecshop.wsgi:application",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        base = f"http://127.0.0.1:{PORT}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/bench/minimal", timeout=1)  # noqa: S310 - our server
                break
            except OSError:
                time.sleep(0.2)
        quote = "/api/quote?tier=pro&expires=2027-05-25&today=2026-11-25&add=CONSERVAZIONE=5&renew_years=1"
        area = f"sessionid={area_session}; csrftoken={'c' * 32}"
        mailbox_page = f"/area-clienti/caselle/{ids['mailbox']}/"
        # (label, path, cookie, target, miss): a returning browser sends its session and its
        # CSRF cookie; `miss` pages ask a new query string each time.
        pages = [
            ("minimal view", "/bench/minimal", None, None, False),
            ("catalogue", "/", None, 0.5, False),
            (
                "cart, 3 mailboxes",
                "/carrello/",
                f"sessionid={cart_session}; csrftoken={'c' * 32}",
                0.35,
                False,
            ),
            ("/api/quote", quote, None, 0.5, False),
            ("dashboard, 50 mailboxes", "/area-clienti/", area, 0.15, True),
            ("mailbox page", mailbox_page, area, 0.15, True),
            (
                "API mailboxes, 20 of 50",
                "/api/v1/mailboxes?page_size=20",
                f"Authorization: Bearer {ids['api_token']}",
                0.3,
                False,
            ),
        ]
        pages = [p for p in pages if p[1] == "/bench/minimal" or args.only in p[0]]
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(WRK_SCRIPT)
        for _, path, cookie, _, miss in pages:  # warm every worker's caches
            _wrk(base + path, 2, args.connections, cookie, script.name, miss)
        minimal = pages[0]

        def run(page):
            _, path, cookie, _, miss = page
            return _wrk(base + path, args.seconds, args.connections, cookie, script.name, miss)

        baselines = [run(minimal)]
        results = []
        for page in pages[1:]:
            measured = run(page)
            baselines.append(run(minimal))
            around = (baselines[-2]["rps"] + baselines[-1]["rps"]) / 2
            results.append((page[0], measured, page[3], around))
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        _admin_sql(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        subprocess.run(["redis-cli", "-u", env["REDIS_URL"], "FLUSHDB"], capture_output=True)

    print(
        f"gunicorn {args.workers} workers, wrk {args.connections} connections, "
        f"{args.seconds} s per page, {os.cpu_count()} cores"
    )
    print(
        f"{'page':<22}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'ratio':>8}{'target':>8}"
    )
    ok = True
    first = baselines[0]
    print(
        f"{'minimal view':<22}{first['rps']:>9.0f}{first['p50']:>9.1f}{first['p95']:>9.1f}"
        f"{first['p99']:>9.1f}{first['errors']:>8}{1:>8.2f}"
    )
    for label, r, target, around in results:
        ratio = r["rps"] / around
        passed = r["errors"] == 0 and (target is None or ratio >= target)
        ok = ok and passed
        print(
            f"{label:<22}{r['rps']:>9.0f}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['p99']:>9.1f}"
            f"{r['errors']:>8}{ratio:>8.2f}{'' if target is None else f'>={target}':>8}"
            f"{'' if passed else '  MISSED'}"
        )
    rates = [b["rps"] for b in baselines]
    errors = sum(b["errors"] for b in baselines)
    ok = ok and errors == 0
    print(
        f"minimal view between the pages: {min(rates):.0f} to {max(rates):.0f} req/s "
        f"({len(rates)} runs, {errors} errors)"
    )
    render_ms = ids["dashboard_ms"]
    passed = render_ms <= DASHBOARD_MS_TARGET
    ok = ok and passed
    print(
        f"dashboard render in process (test client, 50 mailboxes): median {render_ms:.1f} ms, "
        f"target <= {DASHBOARD_MS_TARGET} ms{'' if passed else '  MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
