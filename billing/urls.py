from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("api/quote", views.api_quote, name="api_quote"),
]
