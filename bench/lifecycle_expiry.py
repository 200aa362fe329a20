"""The expiry job at a million mailboxes, against hand-written SQL making the same changes.

On PostgreSQL it builds 1,000,000 mailboxes with 3,000,000 add-ons, 100,000 of them
expiring on the benchmark day (with generate_series, not the ORM), copies that database
twice (CREATE DATABASE ... TEMPLATE) and then, each on its own identical copy:

1. runs `mailboxes.lifecycle.expire_mailboxes` in a fresh process: time and peak memory
   (ru_maxrss), targets within 2x of the SQL and under 300 MB;
2. runs the same changes (events, statuses, the platform calls) as five hand-written
   set-based statements in one transaction;
3. runs the whole `run_lifecycle` day in a fresh process: time per step and in total.

It checks that the job and the SQL left identical data and that `check_invariants` holds
after the day, and prints everything. The databases (`pecshop_lifecycle_bench`, `_sql`,
`_day`) are created on the server of BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/postgres) and dropped at the end (--keep keeps them).

    .venv/bin/python bench/lifecycle_expiry.py
"""

# ruff: noqa: S608 - the SQL here is built from this file's constants, never from input.

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
SERVER = BASE_URL.rsplit("/", 1)[0]
JOB_DB = "pecshop_lifecycle_bench"
SQL_DB = f"{JOB_DB}_sql"
DAY_DB = f"{JOB_DB}_day"
TODAY = date(2027, 3, 15)

MAILBOXES = 1_000_000
CUSTOMERS = 50_000
UNPAID_ORDERS = 1_000


def _url(database: str) -> str:
    return f"{SERVER}/{database}".replace("postgres://", "postgresql://", 1)


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(_url(BASE_URL.rsplit("/", 1)[1]), autocommit=True) as conn:
        conn.execute(sql)


def _drop_all() -> None:
    for name in (JOB_DB, SQL_DB, DAY_DB):
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _child_env(database: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{SERVER}/{database}",
        DJANGO_SETTINGS_MODULE="pecshop.settings",
        # The job's own e-mails (reminders, alerts) are rendered and handed to a backend
        # that drops them; the tasks it queues (order e-mails, platform calls) go, as in
        # production, to a queue for the workers: here a throw-away embedded broker.
        EMAIL_URL="dummymail://",
        CELERY_TASK_ALWAYS_EAGER="false",
        LOG_LEVEL="WARNING",
        VAR_DIR=tempfile.mkdtemp(prefix="pecshop-lifecycle-bench-"),
    )
    env.pop("REDIS_URL", None)
    return env


def _run_child(step: str, database: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", step],
        env=_child_env(database),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{step} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the data -------------------------------------------------------------------------------

GENERATE = """
SET session_replication_role = replica;  -- foreign keys are right by construction
SET synchronous_commit = off;
SET maintenance_work_mem = '512MB';

INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email,
                       is_staff, is_active, date_joined)
SELECT n, '!', false, 'bench' || n || '@example.it', '', '', 'bench' || n || '@example.it',
       false, true, now()
FROM generate_series(1, {customers}) n;

INSERT INTO customers_customer (id, phone, created_at, user_id, own_holder_id)
SELECT n, '', now(), n, n FROM generate_series(1, {customers}) n;

INSERT INTO customers_holder (id, kind, first_name, last_name, company_name, vat_number,
       fiscal_code, legal_representative, street, postal_code, city, province, email,
       sdi_code, invoice_pec, created_at, customer_id)
SELECT n, 'person', 'Cliente', 'Numero ' || n, '', '', 'RSSMRA85T10A562S', '', 'Via Roma 1',
       '00184', 'Roma', 'RM', 'bench' || n || '@example.it', '', '', now(), n
FROM generate_series(1, {customers}) n;

-- One mailbox in ten expires today (100,000); the others are spread from 90 days ago
-- (expired, in the grace period; those of exactly 90 days end it today) to a year ahead.
CREATE TEMP TABLE plan AS
SELECT n,
       CASE WHEN n % 10 = 0 THEN 0
            WHEN n % 455 = 90 THEN 365
            ELSE n % 455 - 90 END AS offset_days
FROM generate_series(1, {mailboxes}) n;

INSERT INTO mailboxes_mailbox (id, address, status, term_years, activated_on, expires_on,
       expired_on, cancelled_on, auto_renew, cancel_at_expiry, usage_mailbox_mb,
       usage_archive_mb, usage_conservation_mb, usage_updated_at, password, created_at,
       updated_at, customer_id, holder_id, tier_id, next_tier_id, term_changes_on)
SELECT n, 'casella' || n || '@pec.it',
       CASE WHEN offset_days < 0 THEN 'expired' ELSE 'active' END,
       1,
       DATE '{today}' + offset_days - 365,
       DATE '{today}' + offset_days,
       CASE WHEN offset_days < 0 THEN DATE '{today}' + offset_days END,
       NULL,
       n % 10 <> 0 AND n % 100 = 1,            -- 1% renew automatically
       n % 1000 = 10,                          -- 1 in 1000 of today's gave notice
       CASE WHEN n % 500 = 3 THEN 1900 ELSE (n * 37) % 1000 END,
       0, 0, now(), '', now(), now(),
       1 + n % {customers}, 1 + n % {customers},
       {standard} + n % 3,                     -- standard, pro, premium in turn
       NULL, NULL
FROM plan;

-- Three add-ons each, within the tier's rules, in the status of their mailbox.
INSERT INTO mailboxes_mailboxaddon (id, quantity, next_quantity, status, created_at,
       updated_at, addon_id, mailbox_id)
SELECT (m.id - 1) * 3 + k,
       CASE WHEN m.tier_id = {standard} AND k IN (1, 3) THEN 1 ELSE 1 + (m.id + k) % 3 END,
       NULL,
       m.status, now(), now(),
       CASE m.tier_id - {standard}
            WHEN 0 THEN (ARRAY[{spazio}, {conservazione}, {sms}])[k]
            WHEN 1 THEN (ARRAY[{spazio}, {archivio}, {conservazione}])[k]
            ELSE (ARRAY[{spazio}, {archivio}, {multiutente}])[k] END,
       m.id
FROM mailboxes_mailbox m CROSS JOIN generate_series(1, 3) k;

-- 1 in 1000 renewed early with a tier change that takes effect today.
UPDATE mailboxes_mailbox
SET term_changes_on = DATE '{today}',
    next_tier_id = CASE WHEN tier_id = {standard} THEN {standard} + 1 ELSE {standard} END
WHERE id % 1000 = 5 AND status = 'active';
UPDATE mailboxes_mailboxaddon ma SET next_quantity = 0
FROM mailboxes_mailbox m
WHERE m.id = ma.mailbox_id AND m.term_changes_on IS NOT NULL
  AND ma.addon_id IN ({archivio}, {multiutente}, {sms});
UPDATE mailboxes_mailboxaddon ma SET next_quantity = 1
FROM mailboxes_mailbox m
WHERE m.id = ma.mailbox_id AND m.term_changes_on IS NOT NULL AND m.next_tier_id = {standard}
  AND ma.addon_id = {spazio} AND ma.quantity > 1;

-- The reminders of the last two days went out already (the job runs every day).
INSERT INTO mailboxes_remindersent (expires_on, kind, due_on, sent_at, created_at, mailbox_id)
SELECT m.expires_on, r.kind, m.expires_on + r.offset_days, now(), now(), m.id
FROM mailboxes_mailbox m
JOIN (VALUES ('before_90', -90), ('before_60', -60), ('before_30', -30), ('before_15', -15),
             ('before_7', -7), ('before_1', -1), ('grace_0', 0), ('grace_30', 30),
             ('grace_60', 60), ('grace_83', 83), ('grace_89', 89)) r(kind, offset_days)
  ON m.expires_on + r.offset_days BETWEEN DATE '{today}' - 2 AND DATE '{today}' - 1
WHERE (r.offset_days < 0 AND m.status = 'active' AND NOT m.cancel_at_expiry)
   OR (r.offset_days >= 0 AND m.status = 'expired');

-- Bank-transfer orders never paid, placed 20 days ago.
INSERT INTO billing_order (id, number, status, payment_method, net, vat, total, placed_on,
       placement_key, attention_reason, created_at, customer_id, billing_holder_id)
SELECT n, '2027-' || lpad(n::text, 6, '0'), 'awaiting', 'bank_transfer', 24.90, 5.48, 30.38,
       DATE '{today}' - 20, 'bench-' || n, '', now(), 1 + n % {customers}, 1 + n % {customers}
FROM generate_series(1, {orders}) n;

"""

SEQUENCES = [
    "auth_user",
    "customers_customer",
    "customers_holder",
    "mailboxes_mailbox",
    "mailboxes_mailboxaddon",
    "mailboxes_remindersent",
    "billing_order",
]


def _generate() -> float:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(_url(JOB_DB), autocommit=True) as conn:
        ids = dict(conn.execute("SELECT code, id FROM addons_tier").fetchall())
        ids.update(conn.execute("SELECT code, id FROM addons_addon").fetchall())
        assert ids["pro"] == ids["standard"] + 1 and ids["premium"] == ids["standard"] + 2
        sql = GENERATE.format(
            customers=CUSTOMERS,
            mailboxes=MAILBOXES,
            orders=UNPAID_ORDERS,
            today=TODAY.isoformat(),
            standard=ids["standard"],
            spazio=ids["SPAZIO"],
            archivio=ids["ARCHIVIO"],
            conservazione=ids["CONSERVAZIONE"],
            multiutente=ids["MULTIUTENTE"],
            sms=ids["SMS"],
        )
        with conn.transaction():
            for statement in sql.split(";\n"):
                if statement.strip():
                    conn.execute(statement)
        for table in SEQUENCES:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


# --- the hand-written SQL ---------------------------------------------------------------------

EXPIRY_SQL = """
INSERT INTO mailboxes_mailboxevent (mailbox_id, mailbox_addon_id, kind, from_status, to_status,
       data, reason, actor_id, created_at)
SELECT id, NULL, 'status', status,
       CASE WHEN cancel_at_expiry THEN 'cancelled' ELSE 'expired' END,
       jsonb_build_object('on', '{today}'),
       CASE WHEN cancel_at_expiry THEN 'disdetta alla scadenza' ELSE 'scadenza' END,
       NULL, now()
FROM mailboxes_mailbox WHERE status = 'active' AND expires_on <= '{today}';

INSERT INTO mailboxes_mailboxevent (mailbox_id, mailbox_addon_id, kind, from_status, to_status,
       data, reason, actor_id, created_at)
SELECT ma.mailbox_id, ma.id, 'addon_status', ma.status,
       CASE WHEN m.cancel_at_expiry THEN 'cancelled' ELSE 'expired' END,
       jsonb_build_object('addon', a.code, 'quantity', ma.quantity),
       CASE WHEN m.cancel_at_expiry THEN 'disdetta alla scadenza' ELSE 'scadenza' END,
       NULL, now()
FROM mailboxes_mailboxaddon ma
JOIN mailboxes_mailbox m ON m.id = ma.mailbox_id
JOIN addons_addon a ON a.id = ma.addon_id
WHERE m.status = 'active' AND m.expires_on <= '{today}'
  AND (ma.status = 'active' OR (m.cancel_at_expiry AND ma.status IN ('pending', 'expired')));

UPDATE mailboxes_mailboxaddon ma
SET status = CASE WHEN m.cancel_at_expiry THEN 'cancelled' ELSE 'expired' END,
    updated_at = now()
FROM mailboxes_mailbox m
WHERE m.id = ma.mailbox_id AND m.status = 'active' AND m.expires_on <= '{today}'
  AND (ma.status = 'active' OR (m.cancel_at_expiry AND ma.status IN ('pending', 'expired')));

INSERT INTO mailboxes_provisioningcall (mailbox_id, action, payload, status, attempts,
       last_error, created_at)
SELECT id, CASE WHEN cancel_at_expiry THEN 'delete' ELSE 'suspend' END, '{{}}'::jsonb,
       'pending', 0, '', now()
FROM mailboxes_mailbox WHERE status = 'active' AND expires_on <= '{today}';

UPDATE mailboxes_mailbox
SET status = CASE WHEN cancel_at_expiry THEN 'cancelled' ELSE 'expired' END,
    expired_on = CASE WHEN cancel_at_expiry THEN expired_on ELSE DATE '{today}' END,
    cancelled_on = CASE WHEN cancel_at_expiry THEN DATE '{today}' ELSE cancelled_on END,
    updated_at = now()
WHERE status = 'active' AND expires_on <= '{today}'
"""


def _expire_by_sql() -> float:
    import psycopg

    with psycopg.connect(_url(SQL_DB)) as conn:
        started = time.perf_counter()
        with conn.transaction():
            for statement in EXPIRY_SQL.format(today=TODAY.isoformat()).split(";\n"):
                conn.execute(statement)
        return time.perf_counter() - started


FINGERPRINT = [
    "SELECT status, count(*) FROM mailboxes_mailbox GROUP BY 1 ORDER BY 1",
    "SELECT status, count(*) FROM mailboxes_mailboxaddon GROUP BY 1 ORDER BY 1",
    "SELECT kind, from_status, to_status, reason, data::text, count(*) "
    "FROM mailboxes_mailboxevent WHERE mailbox_addon_id IS NULL GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4",
    "SELECT count(*), count(DISTINCT mailbox_addon_id) FROM mailboxes_mailboxevent "
    "WHERE mailbox_addon_id IS NOT NULL",
    "SELECT md5(string_agg(id || status || coalesce(expired_on::text, '-') "
    "|| coalesce(cancelled_on::text, '-'), ',' ORDER BY id)) FROM mailboxes_mailbox",
    "SELECT md5(string_agg(id || status, ',' ORDER BY id)) FROM mailboxes_mailboxaddon",
    "SELECT md5(string_agg(mailbox_id || action || status, ',' ORDER BY mailbox_id, action)) "
    "FROM mailboxes_provisioningcall",
    "SELECT md5(string_agg(e.mailbox_addon_id || e.from_status || e.to_status "
    "|| (e.data->>'addon') || (e.data->>'quantity'), ',' ORDER BY e.mailbox_addon_id)) "
    "FROM mailboxes_mailboxevent e WHERE e.mailbox_addon_id IS NOT NULL",
]


def _fingerprint(database: str) -> list:
    import psycopg

    with psycopg.connect(_url(database)) as conn:
        return [conn.execute(sql).fetchall() for sql in FINGERPRINT]


# --- the child processes (a fresh process each, for a clean peak memory) ----------------------


def _child(step: str) -> None:
    import resource

    import django

    django.setup()
    from billing.lifecycle import invariant_violations, run_lifecycle
    from mailboxes.lifecycle import expire_mailboxes

    out: dict = {}
    started = time.perf_counter()
    if step == "expire":
        out["counts"] = expire_mailboxes(today=TODAY)
    else:
        out["steps"] = [
            (name, counts, round(seconds, 2))
            for name, counts, seconds in run_lifecycle(today=TODAY)
        ]
    out["seconds"] = time.perf_counter() - started
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if step == "day":
        checked = time.perf_counter()
        out["violations"] = invariant_violations(today=TODAY, limit=5)
        out["check_seconds"] = time.perf_counter() - checked
    print(json.dumps(out))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return 0

    _drop_all()
    _admin(f"CREATE DATABASE {JOB_DB}")
    try:
        migrate = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"],
            env=_child_env(JOB_DB),
            check=False,
        )
        if migrate.returncode:
            raise SystemExit("migrate failed")
        generated = _generate()
        print(f"generated {MAILBOXES:,} mailboxes, {3 * MAILBOXES:,} add-ons in {generated:.0f} s")
        copied = time.perf_counter()
        _admin(f"CREATE DATABASE {SQL_DB} TEMPLATE {JOB_DB}")
        _admin(f"CREATE DATABASE {DAY_DB} TEMPLATE {JOB_DB}")
        print(f"copied twice in {time.perf_counter() - copied:.0f} s")

        job = _run_child("expire", JOB_DB)
        sql_seconds = _expire_by_sql()
        same = _fingerprint(JOB_DB) == _fingerprint(SQL_DB)
        day = _run_child("day", DAY_DB)
    finally:
        if not args.keep:
            _drop_all()

    ratio = job["seconds"] / sql_seconds
    print(f"cores: {os.cpu_count()}  day: {TODAY}  expiring today: 100,000 mailboxes")
    print(f"expiry job      : {job['seconds']:7.1f} s  {job['counts']}")
    print(f"hand-written SQL: {sql_seconds:7.1f} s")
    print(f"ratio           : {ratio:7.2f}x  (target <= 2x)")
    print(f"job peak memory : {job['peak_mb']:7.0f} MB  (target < 300 MB)")
    print(f"same changes    : {same}")
    print(f"run_lifecycle   : {day['seconds']:7.1f} s  (peak {day['peak_mb']:.0f} MB)")
    for name, counts, seconds in day["steps"]:
        print(f"  {name:29s}{seconds:7.1f} s  {counts}")
    print(
        f"check_invariants: {day['check_seconds']:7.1f} s  "
        f"{'no violations' if not day['violations'] else day['violations']}"
    )
    ok = ratio <= 2 and job["peak_mb"] < 300 and same and not day["violations"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
