from django.urls import path

from area import alignment_views, api_views, export_views, holder_views, views

app_name = "area"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accedi-casella/", views.mailbox_login, name="mailbox_login"),
    path("caselle/<int:pk>/", views.mailbox_detail, name="mailbox"),
    path("caselle/<int:pk>/riduci/", views.mailbox_reduce, name="reduce"),
    path("caselle/<int:pk>/rinnovo-automatico/", views.mailbox_auto_renew, name="auto_renew"),
    path("caselle/<int:pk>/disdetta/", views.mailbox_cancel_view, name="cancel"),
    path("caselle/<int:pk>/titolare/", views.mailbox_holder, name="holder"),
    path("caselle/<int:pk>/<slug:action>/", views.mailbox_action, name="action"),
    path("titolari/", holder_views.holder_list, name="holders"),
    path("titolari/nuovo/", holder_views.holder_new, name="holder_new"),
    path("titolari/<int:pk>/", holder_views.holder_edit, name="holder_edit"),
    path("titolari/<int:pk>/elimina/", holder_views.holder_remove, name="holder_delete"),
    path("fatture/<int:pk>.<str:fmt>", views.invoice_download, name="invoice"),
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
