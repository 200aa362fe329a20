"""Backup with pg_dump -Fc, restore with pg_restore into a new database, and check it."""

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from billing.models import Invoice

ROOT = Path(__file__).resolve().parent.parent.parent


def paid_order(alice, order_for, pay):
    from tests.billing.test_orders import new_mailbox

    order = order_for(new_mailbox(alice), method="card")
    pay(order)
    return order


@pytest.mark.django_db
def test_a_sound_database_passes_the_restore_check(alice, order_for, pay, capsys):
    paid_order(alice, order_for, pay)
    call_command("check_restore")
    out = capsys.readouterr().out
    assert "migrazioni: tutte applicate" in out
    year = Invoice.objects.get().year
    assert f"fatture {year}: 1, ultima {year}/1" in out
    assert "Database ripristinato: controlli superati." in out


@pytest.mark.django_db
@contextmanager
def without_append_only_triggers():
    """PostgreSQL refuses to edit an issued invoice (the append-only triggers); a replica
    session, as a restore tool may open, skips them."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")


def test_a_gap_in_invoice_numbers_fails_the_restore_check(alice, order_for, pay, capsys):
    paid_order(alice, order_for, pay)
    invoice = Invoice.objects.get()
    with without_append_only_triggers():  # a damaged restore, not the shop, made the gap
        Invoice.objects.filter(pk=invoice.pk).update(number=3)  # 1 and 2 lost
    with pytest.raises(CommandError, match="problemi"):
        call_command("check_restore")
    assert f"numerazione delle fatture {invoice.year}: mancano 1, 2" in capsys.readouterr().err


@pytest.mark.django_db
def test_a_migration_not_applied_fails_the_restore_check(capsys):
    from django.db.migrations.recorder import MigrationRecorder

    MigrationRecorder(connection).migration_qs.filter(app="outbox").delete()
    with pytest.raises(CommandError):
        call_command("check_restore")
    assert "migrazioni non applicate: outbox.0001_initial" in capsys.readouterr().err


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dump_restored_into_a_new_database_passes_the_check(alice, order_for, pay, tmp_path):
    if connection.vendor != "postgresql" or not shutil.which("pg_dump"):
        pytest.skip("pg_dump / pg_restore on PostgreSQL")
    from tests.conftest import ensure_catalogue

    ensure_catalogue()
    order = paid_order(alice, order_for, pay)
    params = connection.get_connection_params()
    base = f"postgres://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}"
    source, target = connection.settings_dict["NAME"], f"{connection.settings_dict['NAME']}_restore"
    dump = tmp_path / "pecshop.dump"
    env = {**os.environ, "PGPASSWORD": params.get("password") or ""}

    subprocess.run(
        ["pg_dump", "-Fc", "--no-owner", "-f", str(dump), f"{base}/{source}"], check=True, env=env
    )
    subprocess.run(["dropdb", "--if-exists", f"--maintenance-db={base}/postgres", target], env=env)
    subprocess.run(["createdb", f"--maintenance-db={base}/postgres", target], check=True, env=env)
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "-d", f"{base}/{target}", str(dump)], check=True, env=env
        )
        result = subprocess.run(
            [sys.executable, "manage.py", "check_restore"],
            cwd=ROOT,
            env={**env, "DATABASE_URL": f"{base}/{target}"},
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        subprocess.run(["dropdb", f"--maintenance-db={base}/postgres", target], env=env)
    assert result.returncode == 0, result.stderr
    assert "Database ripristinato: controlli superati." in result.stdout
    assert f"ultima {order.invoices.get().year}/1" in result.stdout
