from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Fatturazione"

    def ready(self):
        from billing import checks, signals  # noqa: F401 (checks registers itself)

        signals.connect_catalogue_invalidation()
