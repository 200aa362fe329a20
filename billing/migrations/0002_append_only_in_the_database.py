"""Append-only history enforced by PostgreSQL itself, not only by the models' save().

- Event logs (mailbox, order and security events) and the price history: any UPDATE or
  DELETE of a row is refused.
- Issued invoices and credit notes: the fiscal content (number, date, buyer, amounts, the
  order and the invoice a credit note corrects) never changes and no row is deleted; other
  columns that a later feature may add (a transmission state, a cached file) may still be
  updated. Their lines are refused UPDATE and DELETE like the events.

On SQLite (development) nothing is installed: the models' own guard applies there.
TRUNCATE, used only by test teardown, is not affected (row triggers do not fire on it).
"""

from django.db import migrations

REFUSE_CHANGE = """
CREATE OR REPLACE FUNCTION pecshop_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% of %: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""

INVOICE_GUARD = """
CREATE OR REPLACE FUNCTION pecshop_invoice_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'an issued invoice is never deleted (%)', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (NEW.kind, NEW.year, NEW.number, NEW.issued_on, NEW.order_id, NEW.customer_id,
        NEW.credited_invoice_id, NEW.buyer::text, NEW.net, NEW.vat_rate, NEW.vat, NEW.total,
        NEW.created_at)
       IS DISTINCT FROM
       (OLD.kind, OLD.year, OLD.number, OLD.issued_on, OLD.order_id, OLD.customer_id,
        OLD.credited_invoice_id, OLD.buyer::text, OLD.net, OLD.vat_rate, OLD.vat, OLD.total,
        OLD.created_at) THEN
        RAISE EXCEPTION 'an issued invoice is never edited: issue a credit note (%)', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

APPEND_ONLY_TABLES = [
    "mailboxes_mailboxevent",
    "billing_orderevent",
    "billing_invoiceline",
    "addons_pricechange",
    "customers_securityevent",
]


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(REFUSE_CHANGE, params=None)
    schema_editor.execute(INVOICE_GUARD, params=None)
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS append_only ON {table}")
        schema_editor.execute(
            f"CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION pecshop_refuse_change()"
        )
    schema_editor.execute("DROP TRIGGER IF EXISTS issued_invoice ON billing_invoice")
    schema_editor.execute(
        "CREATE TRIGGER issued_invoice BEFORE UPDATE OR DELETE ON billing_invoice "
        "FOR EACH ROW EXECUTE FUNCTION pecshop_invoice_guard()"
    )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS append_only ON {table}")
    schema_editor.execute("DROP TRIGGER IF EXISTS issued_invoice ON billing_invoice")
    schema_editor.execute("DROP FUNCTION IF EXISTS pecshop_refuse_change()")
    schema_editor.execute("DROP FUNCTION IF EXISTS pecshop_invoice_guard()")


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
        ("mailboxes", "0003_lifecycle_reminders_usage_alerts"),
        ("addons", "0003_price_history"),
        ("customers", "0003_security_events"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
