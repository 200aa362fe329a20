from django.urls import path

from customers import views

app_name = "customers"

urlpatterns = [
    path("accedi/", views.login_view, name="login"),
    path("registrati/", views.signup_view, name="signup"),
    path("esci/", views.logout_view, name="logout"),
]
