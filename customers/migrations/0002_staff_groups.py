"""The two staff groups of the back office and the permissions of their operations.

- "Supporto" answers customers: sees everything, edits holders, changes a mailbox's
  holder, resends expiry reminders.
- "Amministrazione" also registers bank transfers, cancels and refunds orders, cancels and
  extends mailboxes, updates usage, and changes the catalogue and its prices.

Django creates the model permissions after the migrations (post_migrate), so they are
created here first. The operations' permissions (`mailboxes.cancel_mailbox`, ...) belong to
no model's Meta: they are created here, on the content type of the model they act on. The
data is written out, not imported, so that this migration always does the same thing.
"""

from django.db import migrations

CUSTOM_PERMISSIONS = [
    # app label, model, codename, name
    ("mailboxes", "mailbox", "cancel_mailbox", "Può annullare una casella"),
    ("mailboxes", "mailbox", "extend_mailbox", "Può prorogare la scadenza di una casella"),
    ("mailboxes", "mailbox", "change_holder", "Può cambiare il titolare di una casella"),
    ("mailboxes", "mailbox", "resend_reminder", "Può reinviare il promemoria di scadenza"),
    ("billing", "order", "register_bank_transfer", "Può registrare un bonifico"),
    ("billing", "order", "cancel_order", "Può annullare un ordine non pagato"),
    ("billing", "order", "refund_order", "Può rimborsare un ordine con nota di credito"),
]

VIEW_ALL = [
    "addons.view_tier",
    "addons.view_addon",
    "addons.view_tieraddon",
    "addons.view_pricechange",
    "customers.view_customer",
    "customers.view_holder",
    "mailboxes.view_mailbox",
    "mailboxes.view_mailboxaddon",
    "mailboxes.view_mailboxevent",
    "mailboxes.view_provisioningcall",
    "billing.view_order",
    "billing.view_orderitem",
    "billing.view_orderline",
    "billing.view_payment",
    "billing.view_orderevent",
    "billing.view_invoice",
    "billing.view_invoiceline",
]

SUPPORT = [
    *VIEW_ALL,
    "customers.add_holder",
    "customers.change_holder",
    "mailboxes.change_holder",
    "mailboxes.resend_reminder",
]

ADMINISTRATION = [
    *SUPPORT,
    "customers.change_customer",
    "mailboxes.change_mailbox",
    "mailboxes.cancel_mailbox",
    "mailboxes.extend_mailbox",
    "billing.register_bank_transfer",
    "billing.cancel_order",
    "billing.refund_order",
    "addons.add_tier",
    "addons.change_tier",
    "addons.add_addon",
    "addons.change_addon",
    "addons.add_tieraddon",
    "addons.change_tieraddon",
    "addons.delete_tieraddon",
    "addons.add_pricechange",
]

GROUPS = {"Supporto": SUPPORT, "Amministrazione": ADMINISTRATION}


def create_groups(apps, schema_editor):
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
        permissions = []
        for name in names:
            app_label, codename = name.split(".")
            permissions.append(
                Permission.objects.using(alias).get(
                    content_type__app_label=app_label, codename=codename
                )
            )
        group.permissions.set(permissions)


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("customers", "0001_initial"),
        ("addons", "0003_price_history"),
        ("mailboxes", "0002_provisioningcall_and_more"),
        ("billing", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
