"""Staff permissions for the transmission to the SDI.

Both groups see transmissions and receipts; "Amministrazione" also sends a discarded
document again after its correction and downloads the preservation export. Written out
like customers/0002_staff_groups, so that this migration always does the same thing.
"""

from django.db import migrations

CUSTOM_PERMISSIONS = [
    ("billing", "invoice", "resend_sdi", "Può reinviare allo SdI un documento scartato"),
    (
        "billing",
        "invoice",
        "export_preservation",
        "Può scaricare l'export mensile per la conservazione",
    ),
]
VIEW = ["billing.view_sditransmission", "billing.view_sdireceipt"]
GROUPS = {
    "Supporto": VIEW,
    "Amministrazione": [*VIEW, "billing.resend_sdi", "billing.export_preservation"],
}


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    alias = schema_editor.connection.alias
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=alias)
        app_config.models_module = None

    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for app_label, model, codename, name in CUSTOM_PERMISSIONS:
        content_type, _ = ContentType.objects.using(alias).get_or_create(
            app_label=app_label, model=model
        )
        Permission.objects.using(alias).get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    for group_name, names in GROUPS.items():
        group, _ = Group.objects.using(alias).get_or_create(name=group_name)
        for name in names:
            app_label, codename = name.split(".")
            group.permissions.add(
                Permission.objects.using(alias).get(
                    content_type__app_label=app_label, codename=codename
                )
            )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.using(schema_editor.connection.alias).filter(
        content_type__app_label="billing",
        codename__in=[codename for _, _, codename, _ in CUSTOM_PERMISSIONS],
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_staff_groups"),
        ("billing", "0002_sdi_transmission_and_line_mailbox"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
