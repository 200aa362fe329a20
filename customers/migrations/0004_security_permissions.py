"""Both staff groups may see the login lockouts and unlock an account (delete its access
attempts in django-axes' admin), and read the security audit."""

from django.db import migrations

PERMISSIONS = [
    ("axes", "view_accessattempt"),
    ("axes", "delete_accessattempt"),
    ("axes", "view_accessfailurelog"),
    ("axes", "view_accesslog"),
    ("customers", "view_securityevent"),
]
GROUPS = ["Supporto", "Amministrazione"]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    alias = schema_editor.connection.alias
    for label in ("axes", "customers"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=alias)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    permissions = [
        Permission.objects.using(alias).get(content_type__app_label=app, codename=codename)
        for app, codename in PERMISSIONS
    ]
    for group in Group.objects.using(alias).filter(name__in=GROUPS):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    alias = schema_editor.connection.alias
    permissions = Permission.objects.using(alias).filter(
        codename__in=[codename for _, codename in PERMISSIONS]
    )
    for group in Group.objects.using(alias).filter(name__in=GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_security_events"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
