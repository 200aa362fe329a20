"""A version number of the catalogue, moved by PostgreSQL itself.

Every statement that writes a tier, an add-on, a rule or a price change (the admin, a
service, an `.update()`, raw SQL, a migration, a TRUNCATE) moves `addons_catalogue_version`
to a new number from a sequence, in the same transaction: other connections see the new
number exactly when they see the change, never before, and a number is never given twice
(a sequence does not go back on a rollback). `billing.catalogue.load_catalogue` reads the
number and rebuilds its snapshot only when it moved.

The table is not a model, so no test flush or fixture load touches it. On SQLite nothing
is installed and the catalogue is read in full for every request.
"""

from django.db import migrations

TABLES = ["addons_tier", "addons_addon", "addons_tieraddon", "addons_pricechange"]

INSTALL = """
CREATE SEQUENCE IF NOT EXISTS addons_catalogue_version_seq;
CREATE TABLE IF NOT EXISTS addons_catalogue_version (
    id smallint PRIMARY KEY CHECK (id = 1),
    number bigint NOT NULL
);
INSERT INTO addons_catalogue_version (id, number)
    VALUES (1, nextval('addons_catalogue_version_seq')) ON CONFLICT (id) DO NOTHING;
CREATE OR REPLACE FUNCTION addons_catalogue_changed() RETURNS trigger AS $$
BEGIN
    INSERT INTO addons_catalogue_version (id, number)
        VALUES (1, nextval('addons_catalogue_version_seq'))
        ON CONFLICT (id) DO UPDATE SET number = EXCLUDED.number;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(INSTALL, params=None)
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS catalogue_changed ON {table}")
        schema_editor.execute(
            f"CREATE TRIGGER catalogue_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION addons_catalogue_changed()"
        )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS catalogue_changed ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS addons_catalogue_changed()")
    schema_editor.execute("DROP TABLE IF EXISTS addons_catalogue_version")
    schema_editor.execute("DROP SEQUENCE IF EXISTS addons_catalogue_version_seq")


class Migration(migrations.Migration):
    dependencies = [("addons", "0003_price_history")]

    operations = [migrations.RunPython(install, uninstall)]
