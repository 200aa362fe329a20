"""Request hygiene and security headers shared by every page, and the login lockout page.

- `RejectNulMiddleware`: a NUL byte can reach no view. PostgreSQL refuses it in any text
  value, so a NUL in a query string, a path, a form or a JSON body would otherwise end as a
  500 wherever it reaches a query; it is answered 400 here once for the whole site.
- `SecurityHeadersMiddleware`: Permissions-Policy on every answer, and
  `Cache-Control: private, no-store` on every page that shows one customer's data (Area
  Clienti, orders, checkout, cart, payments, admin) and every document download.
- `lockout_response`: what django-axes answers when an account is locked out from a client
  address (429, in Italian, saying what to do), logged for the staff.
"""

import logging
import re
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers, patch_cache_control

logger = logging.getLogger("pecshop.security")

_JSON_NUL = re.compile(rb"\\u0000", re.IGNORECASE)
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "application/json")
MAX_INSPECTED_BODY = 2 * 1024 * 1024


def _has_nul(raw: bytes) -> bool:
    return b"\x00" in raw or b"\x00" in unquote_to_bytes(raw) or bool(_JSON_NUL.search(raw))


def request_has_nul(request) -> bool:
    if "\x00" in request.path:
        return True
    if _has_nul(request.META.get("QUERY_STRING", "").encode("latin-1", "replace")):
        return True
    content_type = request.META.get("CONTENT_TYPE", "")
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and content_type.startswith(
        _FORM_TYPES
    ):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return False
        if 0 < length <= MAX_INSPECTED_BODY:
            # Reading the body here keeps it for the view (request.body is cached).
            return _has_nul(request.body)
    return False


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request_has_nul(request):
            logger.info(
                "NUL byte refused on %s %s", request.method, request.path.replace("\x00", "")
            )
            message = "Richiesta non valida: contiene un carattere nullo."
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"error": message, "field": None},
                    status=400,
                    json_dumps_params={"ensure_ascii": False},
                )
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def is_private_path(path: str) -> bool:
    return path.startswith(settings.PRIVATE_PATH_PREFIXES)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if is_private_path(request.path) or response.get("Content-Disposition", "").startswith(
            "attachment"
        ):
            add_never_cache_headers(response)
            patch_cache_control(response, private=True, no_store=True)
        return response


def login_username(request, credentials) -> str | None:
    """The account a login attempt is about, as axes stores it: e-mail addresses compared
    without case (the login forms lower-case them too)."""
    credentials = credentials or {}
    username = credentials.get("username")
    if username is None and request is not None and request.method == "POST":
        username = request.POST.get("username") or request.POST.get("email")
    if not isinstance(username, str):
        return username
    # No account name is longer (e-mail addresses stop at 254): the rest is noise that
    # would not fit the attempt's record.
    username = username.strip()[:254]
    return username.lower() if "@" in username else username


def client_address(request) -> str:
    """Behind a TLS proxy: the client the proxy saw (the last X-Forwarded-For entry)."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def lockout_minutes() -> int:
    return max(1, round(float(settings.AXES_COOLOFF_TIME) * 60))


def lockout_response(request, original_response=None, credentials=None):
    username = login_username(request, credentials) or ""
    logger.warning(
        "Login locked out: account %r from %s on %s after %d failed attempts",
        username,
        request.META.get("REMOTE_ADDR", ""),
        request.path,
        settings.AXES_FAILURE_LIMIT,
    )
    response = render(
        request,
        "customers/locked.html",
        {"minutes": lockout_minutes()},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    add_never_cache_headers(response)
    return response
