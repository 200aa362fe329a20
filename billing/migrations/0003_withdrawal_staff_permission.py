"""Both staff groups see the withdrawals (recessi); refunding them stays with
"Amministrazione" through its existing `billing.refund_order` permission."""

from django.db import migrations

GROUPS = ("Supporto", "Amministrazione")


def grant(apps, schema_editor):
    alias = schema_editor.connection.alias
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.using(alias).get_or_create(
        app_label="billing", model="withdrawal"
    )
    permission, _ = Permission.objects.using(alias).get_or_create(
        content_type=content_type,
        codename="view_withdrawal",
        defaults={"name": "Can view recesso"},
    )
    for group in Group.objects.using(alias).filter(name__in=GROUPS):
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    alias = schema_editor.connection.alias
    permission = Permission.objects.using(alias).filter(
        content_type__app_label="billing", codename="view_withdrawal"
    )
    for group in Group.objects.using(alias).filter(name__in=GROUPS):
        group.permissions.remove(*permission)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_withdrawal"),
        ("customers", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
