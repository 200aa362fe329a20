from django.contrib.admin.apps import AdminConfig


class ShopAdminConfig(AdminConfig):
    """Django's admin with the shop's site: staff need a second factor (pecshop.admin_site)."""

    default_site = "pecshop.admin_site.ShopAdminSite"
