from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("entity/<str:kind>/<str:namespace>/<str:name>/", views.entity_detail, name="entity_detail"),
    path("entity/<str:kind>/<str:namespace>/<str:name>/refresh/", views.entity_refresh, name="entity_refresh"),
    path("locations/", views.location_list, name="location_list"),
    path("locations/<int:pk>/", views.location_detail, name="location_detail"),
    path("locations/<int:pk>/refresh/", views.location_refresh, name="location_refresh"),
    path("locations/<int:pk>/trust/", views.location_trust, name="location_trust"),
    path("locations/<int:pk>/adopt/", views.location_adopt, name="location_adopt"),
    path("locations/<int:pk>/change/", views.location_change, name="location_change"),
    path("locations/<int:pk>/unregister/", views.location_unregister, name="location_unregister"),
    path("register/", views.location_register, name="location_register"),
]
