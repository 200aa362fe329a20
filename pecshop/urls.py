from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

from api.api import api as api_v1
from operations import views as operations_views


def minimal(request):
    """The floor for the load benchmark: Django's request cycle and nothing else."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("healthz", operations_views.liveness, name="healthz"),
    path("readyz", operations_views.readiness, name="readyz"),
    path("", include("billing.urls")),
    path("", include("area.account_urls")),
    path("area-clienti/", include("area.urls")),
    path("pagamenti/", include("payments.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api_v1.urls),
]

if settings.BENCHMARK_VIEWS:
    urlpatterns.append(path("bench/minimal", minimal))

handler404 = "pecshop.errors.not_found"
handler500 = "pecshop.errors.server_error"
