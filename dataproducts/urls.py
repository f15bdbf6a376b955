from django.urls import path

from dataproducts import views

app_name = "dataproducts"

urlpatterns = [
    path("", views.home, name="home"),
]
