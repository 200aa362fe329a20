from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from area import account_views as views
from customers import forms

app_name = "customers"

urlpatterns = [
    path("accedi/", views.login_view, name="login"),
    path("accedi/verifica/", views.login_verify, name="login_verify"),
    path("registrati/", views.signup_view, name="signup"),
    path(
        "registrati/conferma/<uidb64>/<token>/",
        views.signup_confirm_view,
        name="signup_confirm",
    ),
    path("esci/", views.logout_view, name="logout"),
    path(
        "password/reimposta/",
        views.ThrottledPasswordResetView.as_view(
            template_name="customers/password_reset.html",
            email_template_name="emails/password_reset.txt",
            html_email_template_name="emails/password_reset.html",
            subject_template_name="emails/password_reset_subject.txt",
            success_url=reverse_lazy("customers:password_reset_done"),
            form_class=forms.OutboxPasswordResetForm,
        ),
        name="password_reset",
    ),
    path(
        "password/inviata/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="customers/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "password/nuova/<uidb64>/<token>/",
        views.UnlockingPasswordResetConfirmView.as_view(
            template_name="customers/password_reset_confirm.html",
            success_url=reverse_lazy("customers:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/cambiata/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="customers/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
