"""Error pages in Italian, in the shop's layout."""

from django.shortcuts import render


def not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def server_error(request):
    return render(request, "errors/500.html", status=500)


def csrf_failure(request, reason=""):
    """Most often an expired session or a form left open too long: say so plainly."""
    return render(request, "errors/csrf.html", status=403)
