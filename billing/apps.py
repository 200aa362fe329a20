from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Fatturazione"

    def ready(self):
        from billing import checks  # noqa: F401 (registers the payment gateway checks)
