from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("api/quote", views.api_quote, name="api_quote"),
    path("ordini/<str:number>/", views.order_detail, name="order_done"),
    path("ordini/<str:number>/pagamento-non-riuscito/", views.order_detail, name="payment_failed"),
    path("ordini/<str:number>/paga/", views.order_pay, name="order_pay"),
]
