"""Signal wiring of billing. Payments are not here: every confirmation path calls
`billing.services.payments.payment_confirm` (or `payment_apply`) by name."""


def connect_catalogue_invalidation() -> None:
    """Any change to a catalogue row (addons app) invalidates the cached catalogue."""
    from django.apps import apps
    from django.db.models.signals import post_delete, post_save

    from billing.catalogue_cache import catalogue_changed

    for model in apps.get_app_config("addons").get_models():
        post_save.connect(
            catalogue_changed, sender=model, dispatch_uid=f"catalogue-{model.__name__}"
        )
        post_delete.connect(
            catalogue_changed, sender=model, dispatch_uid=f"catalogue-del-{model.__name__}"
        )
