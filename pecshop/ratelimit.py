"""Per-client-address rate limits for the public JSON APIs (fixed one-minute windows in the
shared cache, so every web process counts together)."""

import time
from functools import wraps

from django.conf import settings
from django.http import JsonResponse

from pecshop.cache import count as cache_count

WINDOW_SECONDS = 60


def client_ip(request) -> str:
    if getattr(settings, "AXES_CLIENT_IP_CALLABLE", None):
        from pecshop.security import client_address

        return client_address(request)
    return request.META.get("REMOTE_ADDR", "")


def hit(scope: str, address: str, *, limit: int, now: float | None = None) -> tuple[bool, int]:
    """Count one request; (allowed, seconds until the window ends)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    count = cache_count(f"ratelimit:{scope}:{address}:{window}", WINDOW_SECONDS + 5)
    retry_after = WINDOW_SECONDS - int(now % WINDOW_SECONDS)
    return count <= limit, retry_after


def rate_limited(scope: str):
    """429 with a JSON error once a client address has made API_RATE_LIMIT requests to
    `scope` in the current minute."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            allowed, retry_after = hit(scope, client_ip(request), limit=settings.API_RATE_LIMIT)
            if not allowed:
                response = JsonResponse(
                    {
                        "error": "Troppe richieste da questo indirizzo: riprova fra "
                        f"{retry_after} secondi.",
                        "retry_after": retry_after,
                    },
                    status=429,
                    json_dumps_params={"ensure_ascii": False},
                )
                response["Retry-After"] = str(retry_after)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
