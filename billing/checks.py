"""`manage.py check` builds every payment variant's provider, so a gateway that cannot load
(a missing package, a missing key) stops the deploy instead of the first customer."""

from django.conf import settings
from django.core.checks import Error, register


@register("payments")
def payment_variants_build(app_configs=None, **kwargs):
    from payments.core import provider_factory

    errors = []
    for variant in settings.PAYMENT_VARIANTS:
        try:
            provider_factory(variant)
        except Exception as error:  # any failure to build is what this check reports
            errors.append(
                Error(
                    f"The payment variant '{variant}' cannot be built: {error!r}",
                    hint="Install requirements.txt and set the gateway's keys.",
                    id="billing.E001",
                )
            )
    return errors
