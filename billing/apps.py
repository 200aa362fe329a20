from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Fatturazione"

    def ready(self):
        from billing import checks  # noqa: F401 (registers the payment gateway checks)
        from billing.services.emails import INVOICE_PDF, invoice_pdf_attachment
        from outbox import attachments

        attachments.register(INVOICE_PDF, invoice_pdf_attachment)
