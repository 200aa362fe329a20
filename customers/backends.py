"""Django's model backend, loading the account's customer profile with the user: every
logged-in page needs both. The pair is kept in the shared cache for a few minutes and
dropped whenever the user or its customer profile is saved or deleted (password changes,
deactivation, a new profile), so most logged-in requests do not query the database for it.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

from pecshop.cache import forget

USER_CACHE_TIMEOUT = 300


def user_cache_key(user_id) -> str:
    return f"auth:user:{user_id}"


def forget_cached_user(user_id) -> None:
    """Now and when the transaction commits (see `pecshop.cache.forget`)."""
    forget(user_cache_key(user_id))


class CustomerBackend(ModelBackend):
    def get_user(self, user_id):
        key = user_cache_key(user_id)
        user = cache.get(key)
        if user is None:
            user_model = get_user_model()
            try:
                user = user_model._default_manager.select_related("customer").get(pk=user_id)
            except user_model.DoesNotExist:
                return None
            cache.set(key, user, timeout=USER_CACHE_TIMEOUT)
        return user if self.user_can_authenticate(user) else None
