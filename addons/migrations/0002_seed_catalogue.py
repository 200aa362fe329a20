"""The catalogue as launched (docs/product-rules.md). Staff change it in the admin afterwards.

The data is written out here, not imported, so that this migration always seeds the same
catalogue whatever the code becomes later.
"""

from decimal import Decimal

from django.db import migrations

TIERS = [
    # code, name, price per year, rank
    ("standard", "Standard", Decimal("9.90"), 1),
    ("pro", "Pro", Decimal("24.90"), 2),
    ("premium", "Premium", Decimal("39.90"), 3),
]

ADDONS = [
    # code, name, unit, quota, price per unit per year, position, description
    (
        "SPAZIO",
        "Spazio aggiuntivo casella",
        "GB",
        "mailbox",
        Decimal("3.00"),
        10,
        "GB in più per la casella, oltre a quelli inclusi nella tipologia.",
    ),
    (
        "ARCHIVIO",
        "Spazio aggiuntivo Archivio di sicurezza",
        "GB",
        "archive",
        Decimal("3.00"),
        20,
        "GB in più per l'archivio di sicurezza, la copia di tutti i messaggi della casella.",
    ),
    (
        "CONSERVAZIONE",
        "Conservazione PEC",
        "GB",
        "conservation",
        Decimal("4.00"),
        30,
        "Conservazione a norma di legge dei messaggi PEC, per il tempo richiesto.",
    ),
    (
        "MULTIUTENTE",
        "Utenti aggiuntivi Multiutente",
        "USER",
        "",
        Decimal("6.00"),
        40,
        "Persone in più che usano la stessa casella, ognuna con le proprie credenziali.",
    ),
    (
        "SMS",
        "Avviso SMS di ricezione",
        "SERVICE",
        "",
        Decimal("4.00"),
        50,
        "Un SMS a ogni nuovo messaggio PEC ricevuto.",
    ),
]

RULES = {
    # addon: {tier: (sold, max quantity, included quantity)}
    "SPAZIO": {"standard": (True, 1, 1), "pro": (True, 100, 2), "premium": (True, 100, 2)},
    "ARCHIVIO": {"standard": (False, 0, 0), "pro": (True, 100, 3), "premium": (True, 100, 8)},
    "CONSERVAZIONE": {"standard": (True, 100, 0), "pro": (True, 100, 0), "premium": (True, 100, 0)},
    "MULTIUTENTE": {"standard": (False, 0, 0), "pro": (False, 0, 1), "premium": (True, 30, 3)},
    "SMS": {"standard": (True, 1, 0), "pro": (False, 0, 1), "premium": (False, 0, 1)},
}


def seed(apps, schema_editor):
    Tier = apps.get_model("addons", "Tier")
    AddOn = apps.get_model("addons", "AddOn")
    TierAddOn = apps.get_model("addons", "TierAddOn")
    tiers = {}
    for code, name, price, rank in TIERS:
        tiers[code], _ = Tier.objects.update_or_create(
            code=code, defaults={"name": name, "price_per_year": price, "rank": rank}
        )
    for code, name, unit, quota, price, position, description in ADDONS:
        addon, _ = AddOn.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "unit": unit,
                "quota": quota,
                "price_per_year": price,
                "position": position,
                "description": description,
            },
        )
        for tier_code, (sold, max_quantity, included) in RULES[code].items():
            TierAddOn.objects.update_or_create(
                tier=tiers[tier_code],
                addon=addon,
                defaults={
                    "sold": sold,
                    "max_quantity": max_quantity,
                    "included_quantity": included,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("addons", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
