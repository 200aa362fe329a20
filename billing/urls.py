from django.urls import path

from billing.views import api, checkout, orders, shop, webhooks

app_name = "billing"

urlpatterns = [
    path("", shop.catalogue, name="catalogue"),
    path("configura/<slug:tier>/", shop.configure, name="configure"),
    path("carrello/", shop.cart, name="cart"),
    path("carrello/<int:item_id>/modifica/<slug:tier>/", shop.configure, name="cart_edit"),
    path("carrello/<int:item_id>/rimuovi/", shop.cart_remove, name="cart_remove"),
    path("checkout/", checkout.checkout, name="checkout"),
    path("checkout/dati/", checkout.checkout_details, name="checkout_details"),
    path("ordini/<str:number>/", orders.order_detail, name="order_done"),
    path("ordini/<str:number>/pagamento-non-riuscito/", orders.order_detail, name="payment_failed"),
    path("ordini/<str:number>/paga/", orders.order_pay, name="order_pay"),
    path("pagamenti/stripe/webhook/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("api/quote", api.api_quote, name="api_quote"),
    path("api/indirizzo", api.api_address, name="api_address"),
]
