from django.contrib.admin.apps import AdminConfig


class ShopAdminConfig(AdminConfig):
    """Django's admin with the shop's site: staff need a second factor (pecshop.admin_site)."""

    default_site = "pecshop.admin_site.ShopAdminSite"

    def ready(self):
        super().ready()  # discovers every app's admin module
        from django.contrib import admin
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        # The second factor is managed by the account itself and, when a device is lost, by
        # the staff reset on the customer's page: django-otp's own device pages are not
        # offered (they would show a device's secret to staff).
        for model in (TOTPDevice, StaticDevice):
            if admin.site.is_registered(model):
                admin.site.unregister(model)
