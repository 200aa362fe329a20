"""Orders placed and paid per second, from 1 and from 8 concurrent client processes.

Each client places an order for a new mailbox and pays it through the same services the
web uses (placement, gateway payment, fulfilment, invoice). The invoice-number row lock is
taken as the last step of the paying transaction, so the clients should scale: the script
prints both rates and their ratio, and fails when 8 clients reach less than 1.5x of 1.

    .venv/bin/python bench/orders_throughput.py              # PostgreSQL on 127.0.0.1
    BENCH_DATABASE_URL=postgres://... .venv/bin/python bench/orders_throughput.py

It creates (and drops at the end) its own database, `pecshop_bench`.
"""

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = "pecshop_bench"


def _admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(BASE_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)


def _setup_django() -> None:
    server = BASE_URL.rsplit("/", 1)[0]
    os.environ["DATABASE_URL"] = f"{server}/{BENCH_DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pecshop.settings")
    # Tasks queued by the orders (e-mails, provisioning) go to a throw-away embedded queue.
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="pecshop-bench-")
    os.environ.pop("REDIS_URL", None)
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def _prepare(clients: int) -> list[int]:
    from django.core.management import call_command

    from customers.services import customer_create, holder_create

    call_command("migrate", verbosity=0)
    ids = []
    for n in range(clients):
        customer = customer_create(email=f"bench{n}@example.it", password="x", validate=False)
        holder_create(
            customer=customer,
            own=True,
            kind="person",
            first_name="Bench",
            last_name=f"Client{n}",
            fiscal_code="RSSMRA85T10A562S",
            street="Via Roma 1",
            postal_code="00184",
            city="Roma",
            province="RM",
            email=f"bench{n}@example.it",
        )
        ids.append(customer.pk)
    return ids


def _client(customer_id: int, seconds: float, label: str, queue) -> None:
    from datetime import date

    from django.db import connections
    from payments import PaymentStatus

    from billing.services.items import ItemSpec
    from billing.services.orders import order_place
    from billing.services.payments import payment_apply, payment_start
    from customers.models import Customer

    connections.close_all()
    customer = Customer.objects.select_related("own_holder").get(pk=customer_id)
    today = date(2026, 11, 25)
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        spec = ItemSpec(
            "new_mailbox",
            {
                "tier": "pro",
                "local_part": f"b{label}-{customer_id}-{done}-{uuid.uuid4().hex[:6]}",
                "domain": "pec.it",
                "years": 1,
                "addons": {"CONSERVAZIONE": 5},
                "holder_id": customer.own_holder_id,
            },
        )
        order = order_place(
            customer=customer,
            items=[spec],
            payment_method="card",
            placement_key=uuid.uuid4().hex,
            today=today,
        )
        payment = payment_start(order=order)
        payment.transaction_id = f"bench-{payment.token}"
        payment.captured_amount = order.total
        payment.status = PaymentStatus.CONFIRMED
        payment.save(update_fields=["transaction_id", "captured_amount", "status"])
        outcome = payment_apply(payment_id=payment.pk, paid_on=today)
        assert outcome == "fulfilled", outcome
        done += 1
    queue.put(done)


def _run(customer_ids: list[int], seconds: float, label: str) -> float:
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [
        context.Process(target=_client, args=(cid, seconds, label, queue)) for cid in customer_ids
    ]
    started = time.perf_counter()
    for process in processes:
        process.start()
    total = sum(queue.get() for _ in processes)
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    return total / elapsed


def _check_invoices() -> tuple[int, bool]:
    from billing.models import Invoice

    numbers = sorted(Invoice.objects.filter(year=2026).values_list("number", flat=True))
    return len(numbers), numbers == list(range(1, len(numbers) + 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="duration of each run")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    _admin_sql(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    _admin_sql(f"CREATE DATABASE {BENCH_DB}")
    try:
        _setup_django()
        ids = _prepare(args.clients)
        _run(ids[:1], 2.0, "w")  # warm-up
        one = _run(ids[:1], args.seconds, "a")
        many = _run(ids, args.seconds, "b")
        count, gapless = _check_invoices()
        from django.db import connections

        connections.close_all()
    finally:
        if not args.keep:
            _admin_sql(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    ratio = many / one
    print(f"cores: {os.cpu_count()}  run: {args.seconds:.0f} s each")
    print(f"1 client : {one:8.1f} orders/s")
    print(f"{args.clients} clients: {many:8.1f} orders/s")
    print(f"ratio    : {ratio:8.2f}x  (target >= 1.5x)")
    print(f"invoices : {count}, numbered 1..{count} with no gap or repeat: {gapless}")
    return 0 if ratio >= 1.5 and gapless else 1


if __name__ == "__main__":
    sys.exit(main())
