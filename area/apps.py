from django.apps import AppConfig


class AreaConfig(AppConfig):
    """The Area Clienti: what a customer sees and does with the mailboxes of the account."""

    name = "area"
    verbose_name = "Area Clienti"
