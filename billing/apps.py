from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Fatturazione"

    def ready(self):
        from billing import signals  # noqa: F401 - registers the payment receiver
