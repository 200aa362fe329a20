"""Django's model backend, loading the account's customer profile with the user: every
logged-in page needs both, so this is one query instead of two. Nothing is cached across
requests: a password change or a deactivation counts from the next request, and no
password hash leaves the database.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class CustomerBackend(ModelBackend):
    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("customer").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
