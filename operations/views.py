"""Liveness and readiness, for load balancers, compose healthchecks, monitoring and staff."""

import json

from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache

from operations.health import CHECKS, run_checks


@never_cache
def liveness(request):
    """The process answers. Touches nothing else, so it stays cheap and stays 200 while a
    dependency is down (that is readiness' business)."""
    return HttpResponse("ok", content_type="text/plain")


def _wants_html(request) -> bool:
    wanted = request.GET.get("format")
    if wanted:
        return wanted == "html"
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and "application/json" not in accept


@never_cache
def readiness(request):
    """Every dependency checked: 200 when all hold, 503 naming what fails. JSON for
    machines; `?format=html` (or a browser) gets a page for staff. `?check=NAME` (repeatable)
    runs only those checks."""
    names = request.GET.getlist("check")
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        return JsonResponse(
            {"error": f"controllo sconosciuto: {', '.join(unknown)}", "known": list(CHECKS)},
            status=400,
        )
    results = run_checks(names or None)
    failing = [r.name for r in results if not r.ok]
    status = 503 if failing else 200
    user = getattr(request, "user", None)
    # Error details name hosts and ports: only staff see them (they are in the log too).
    detail = bool(user is not None and _is_staff(user))
    if _wants_html(request):
        html = render_to_string(
            "operations/health.html",
            {"results": results, "failing": failing, "detail": detail},
        )
        return HttpResponse(html, status=status)
    body = {
        "status": "fail" if failing else "ok",
        "failing": failing,
        "checks": {r.name: r.as_dict(detail=detail) for r in results},
    }
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
    )


def _is_staff(user) -> bool:
    try:
        return bool(user.is_authenticated and user.is_staff)
    except Exception:  # noqa: BLE001 - the session store may be what is down
        return False
