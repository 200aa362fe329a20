"""The back office's mailbox list with 1,000,000 mailboxes on PostgreSQL.

Times the changelist, a search by address (complete, and its beginning), a search by the
account's e-mail and the status filters through the Django test client logged in as a
superuser, and prints for each the time (median of the runs), the number of SQL queries
and whether any query counted the whole table (a COUNT without LIMIT over mailboxes).

    .venv/bin/python bench/admin_mailboxes.py                 # PostgreSQL on 127.0.0.1
    .venv/bin/python bench/admin_mailboxes.py --rows 200000 --explain
    BENCH_DATABASE_URL=postgres://... .venv/bin/python bench/admin_mailboxes.py

It creates (and drops at the end, unless --keep) its own database, `pecshop_admin_bench`,
and fills it with set-based SQL (generate_series): 1,000 accounts with their holders, and
the mailboxes spread over them, tiers and statuses.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = "pecshop_admin_bench"
ACCOUNTS = 1000


def _admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(BASE_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)


def _setup_django() -> None:
    server = BASE_URL.rsplit("/", 1)[0]
    os.environ["DATABASE_URL"] = f"{server}/{BENCH_DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pecshop.settings")
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="pecshop-admin-bench-")
    os.environ.pop("REDIS_URL", None)
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host, e-mails kept in memory


def _fill(rows: int) -> float:
    """Accounts, holders and `rows` mailboxes, in a few set-based statements."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                                   email, is_staff, is_active, date_joined)
            SELECT '!', false, 'cliente' || n || '@example.it', '', '',
                   'cliente' || n || '@example.it', false, true, now()
            FROM generate_series(1, %s) AS n
            """,
            [ACCOUNTS],
        )
        cursor.execute(
            """
            INSERT INTO customers_customer (user_id, phone, created_at)
            SELECT id, '', now() FROM auth_user WHERE username LIKE 'cliente%%@example.it'
            """
        )
        cursor.execute(
            """
            INSERT INTO customers_holder (customer_id, kind, first_name, last_name,
                company_name, vat_number, fiscal_code, legal_representative, street,
                postal_code, city, province, email, sdi_code, invoice_pec, created_at)
            SELECT c.id, 'person', 'Nome' || c.id, 'Cognome' || c.id, '', '',
                   'RSSMRA' || lpad(c.id::text, 10, '0'), '', 'Via Roma 1', '00184', 'Roma',
                   'RM', u.email, '', '', now()
            FROM customers_customer c JOIN auth_user u ON u.id = c.user_id
            """
        )
        cursor.execute(
            """
            UPDATE customers_customer c SET own_holder_id = h.id
            FROM customers_holder h WHERE h.customer_id = c.id
            """
        )
        # 80% active, 10% expired, 7% cancelled, 3% awaiting payment.
        cursor.execute(
            """
            WITH accounts AS (
                SELECT row_number() OVER (ORDER BY c.id) - 1 AS k, c.id AS customer_id,
                       h.id AS holder_id
                FROM customers_customer c JOIN customers_holder h ON h.customer_id = c.id
            ), tiers AS (
                SELECT row_number() OVER (ORDER BY rank) - 1 AS k, id FROM addons_tier
            ), numbers AS (
                SELECT n, CASE WHEN n %% 100 < 80 THEN 'active'
                               WHEN n %% 100 < 90 THEN 'expired'
                               WHEN n %% 100 < 97 THEN 'cancelled'
                               ELSE 'pending' END AS status,
                       DATE '2025-01-01' + (n %% 700) AS activated_on
                FROM generate_series(1, %s) AS n
            )
            INSERT INTO mailboxes_mailbox (address, tier_id, holder_id, customer_id, status,
                term_years, activated_on, expires_on, expired_on, cancelled_on, auto_renew,
                cancel_at_expiry, usage_mailbox_mb, usage_archive_mb, usage_conservation_mb,
                password, created_at, updated_at)
            SELECT 'casella' || lpad(n::text, 7, '0') || '@pec.it', t.id, a.holder_id,
                   a.customer_id, status, 1,
                   CASE WHEN status = 'pending' THEN NULL ELSE activated_on END,
                   CASE WHEN status = 'pending' THEN NULL
                        ELSE (activated_on + INTERVAL '1 year')::date END,
                   CASE WHEN status = 'expired' THEN (activated_on + INTERVAL '1 year')::date END,
                   CASE WHEN status = 'cancelled' THEN activated_on + 30 END,
                   n %% 2 = 0, false, n %% 2000, 0, 0, '', now(), now()
            FROM numbers
            JOIN accounts a ON a.k = n %% %s
            JOIN tiers t ON t.k = n %% 3
            """,
            [rows, ACCOUNTS],
        )
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def _measure(client, url: str, params: dict, runs: int, explain: bool) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mailboxes.models import Mailbox

    table = Mailbox._meta.db_table
    client.get(url, params)  # warm-up: caches, plans
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, params)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    queries = captured.captured_queries
    whole_counts = [
        q["sql"]
        for q in queries
        if "COUNT(" in q["sql"].upper() and table in q["sql"] and "LIMIT" not in q["sql"].upper()
    ]
    cl = response.context["cl"]
    slowest = max(queries, key=lambda q: float(q["time"]))
    result = {
        "median_ms": statistics.median(times) * 1000,
        "queries": len(queries),
        "whole_table_counts": len(whole_counts),
        "shown": len(cl.result_list),
        "count": f"{'più di ' if cl.paginator.count_is_capped else ''}{cl.result_count}",
        "slowest_ms": float(slowest["time"]) * 1000,
    }
    if explain:
        with connection.cursor() as cursor:
            for q in queries:
                if table in q["sql"] and q["sql"].lstrip().upper().startswith("SELECT"):
                    cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + q["sql"])
                    plan = "\n      ".join(row[0] for row in cursor.fetchall())
                    result.setdefault("plans", []).append(f"{q['sql'][:120]}...\n      {plan}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timed requests per page")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--explain", action="store_true", help="print the mailbox queries' plans")
    args = parser.parse_args()

    _admin_sql(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    _admin_sql(f"CREATE DATABASE {BENCH_DB}")
    failed = False
    try:
        _setup_django()
        fill_seconds = _fill(args.rows)

        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client

        from mailboxes.models import Mailbox

        boss = get_user_model().objects.create_superuser("bench", "bench@pecshop.example", "x")
        client = Client()
        client.force_login(boss)
        url = "/admin/mailboxes/mailbox/"
        middle = f"casella{args.rows // 2:07d}@pec.it"
        pages = [
            ("lista", {}),
            ("lista, pagina 50", {"p": "50"}),
            ("ricerca indirizzo esatto", {"q": middle}),
            ("ricerca inizio indirizzo", {"q": middle[:12]}),
            ("ricerca e-mail account", {"q": "cliente500@example.it"}),
            ("ricerca codice fiscale", {"q": "RSSMRA0000000500"}),
            ("filtro stato attiva", {"status__exact": "active"}),
            ("filtro stato cancellata", {"status__exact": "cancelled"}),
            ("filtro stato in attesa", {"status__exact": "pending"}),
            (
                "filtro tipologia + scadenza",
                {
                    "tier__id__exact": "2",
                    "expires_on__gte": "2026-06-01",
                    "expires_on__lt": "2026-06-08",
                },
            ),
        ]
        with connection.cursor() as cursor:
            cursor.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
            collation = cursor.fetchone()[0]
        print(
            f"{Mailbox.objects.count():,} mailboxes in {BENCH_DB} (filled in {fill_seconds:.0f} s), "
            f"collation {collation}, {args.runs} runs per page, superuser"
        )
        print(
            f"{'page':32} {'median':>9} {'queries':>8} {'slowest q':>10} {'shown':>6}  count  COUNT(*) on whole table"
        )
        for name, params in pages:
            result = _measure(client, url, params, args.runs, args.explain)
            failed |= result["whole_table_counts"] > 0
            print(
                f"{name:32} {result['median_ms']:7.1f}ms {result['queries']:8d} "
                f"{result['slowest_ms']:8.1f}ms {result['shown']:6d}  {result['count']}  "
                f"{'YES' if result['whole_table_counts'] else 'no'}"
            )
            for plan in result.get("plans", []):
                print("    " + plan)
        connection.close()
    finally:
        if not args.keep:
            _admin_sql(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
