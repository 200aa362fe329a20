from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Fatturazione"

    def ready(self):
        from billing import checks  # noqa: F401 (registers the payment gateway checks)
        from billing.services.emails import INVOICE_PDF, invoice_pdf_attachment
        from outbox import attachments

        attachments.register(INVOICE_PDF, invoice_pdf_attachment)

        from operations import health

        health.register_backlog("sdi", "documenti da trasmettere allo SdI", sdi_queued)


def sdi_queued():
    """Invoices and credit notes written for the SDI and not yet handed to it."""
    from billing.sdi.models import SdiState, SdiTransmission

    return SdiTransmission.objects.filter(state=SdiState.QUEUED)
