from django.conf import settings
from django.contrib import admin
from django.db import connection
from django.http import HttpResponse
from django.urls import include, path

from api.api import api as api_v1


def healthz(request):
    """For load balancers and compose healthchecks: the process answers and the DB too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def minimal(request):
    """The floor for the load benchmark: Django's request cycle and nothing else."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("billing.urls")),
    path("", include("customers.urls")),
    path("area-clienti/", include("area.urls")),
    path("pagamenti/", include("payments.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api_v1.urls),
]

if settings.BENCHMARK_VIEWS:
    urlpatterns.append(path("bench/minimal", minimal))

handler404 = "pecshop.errors.not_found"
handler500 = "pecshop.errors.server_error"
