from django.urls import path

from area import (
    alignment_views,
    api_views,
    cancellation_views,
    export_views,
    holder_views,
    payment_methods_views,
    security_views,
    views,
    withdrawal_views,
)

app_name = "area"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accedi-casella/", views.mailbox_login, name="mailbox_login"),
    path("caselle/<int:pk>/", views.mailbox_detail, name="mailbox"),
    path("caselle/<int:pk>/riduci/", views.mailbox_reduce, name="reduce"),
    path("caselle/<int:pk>/rinnovo-automatico/", views.mailbox_auto_renew, name="auto_renew"),
    path("caselle/<int:pk>/disdetta/", views.mailbox_cancel_view, name="cancel"),
    path(
        "caselle/<int:pk>/revoca-disdetta/",
        cancellation_views.cancellation_revoke,
        name="cancel_revoke",
    ),
    path("caselle/<int:pk>/titolare/", views.mailbox_holder, name="holder"),
    path("caselle/<int:pk>/<slug:action>/", views.mailbox_action, name="action"),
    path("titolari/", holder_views.holder_list, name="holders"),
    path("titolari/nuovo/", holder_views.holder_new, name="holder_new"),
    path("titolari/<int:pk>/", holder_views.holder_edit, name="holder_edit"),
    path("titolari/<int:pk>/elimina/", holder_views.holder_remove, name="holder_delete"),
    path("metodi-di-pagamento/", payment_methods_views.payment_methods, name="payment_methods"),
    path(
        "metodi-di-pagamento/aggiungi/",
        payment_methods_views.payment_method_add,
        name="payment_method_add",
    ),
    path(
        "metodi-di-pagamento/salvata/",
        payment_methods_views.payment_method_saved,
        name="payment_method_saved",
    ),
    path(
        "metodi-di-pagamento/<int:pk>/predefinita/",
        payment_methods_views.payment_method_default,
        name="payment_method_default",
    ),
    path(
        "metodi-di-pagamento/<int:pk>/rimuovi/",
        payment_methods_views.payment_method_remove,
        name="payment_method_remove",
    ),
    path("sicurezza/", security_views.two_factor, name="two_factor"),
    path("sicurezza/attiva/", security_views.two_factor_setup, name="two_factor_setup"),
    path("sicurezza/codici/", security_views.two_factor_codes, name="two_factor_codes"),
    path("sicurezza/disattiva/", security_views.two_factor_off, name="two_factor_off"),
    path("fatture/<int:pk>.<str:fmt>", views.invoice_download, name="invoice"),
    path("recesso/", withdrawal_views.withdrawal_start, name="withdrawal_start"),
    path("ordini/<str:number>/recesso/", withdrawal_views.withdrawal, name="withdrawal"),
    path(
        "ordini/<str:number>/recesso/ricevuta/",
        withdrawal_views.withdrawal_receipt,
        name="withdrawal_receipt",
    ),
    path("allinea-scadenze/", alignment_views.alignment, name="alignment"),
    path("accesso-api/", api_views.api_access, name="api_access"),
    path("accesso-api/token/<int:pk>/revoca/", api_views.api_token_revoke, name="api_token_revoke"),
    path("webhook/", api_views.webhooks, name="webhooks"),
    path("esporta/", export_views.exports, name="exports"),
    path("webhook/<int:pk>/elimina/", api_views.webhook_delete, name="webhook_delete"),
    path(
        "webhook/consegne/<int:pk>/reinvia/", api_views.webhook_resend_view, name="webhook_resend"
    ),
]
