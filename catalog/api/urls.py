"""Backstage's catalog paths (no trailing slashes, as Backstage clients call them) under /api/catalog/."""

from django.urls import path, re_path

from catalog.api import views

app_name = "catalog-api"

urlpatterns = [
    path("entities", views.EntitiesView.as_view(), name="entities"),
    path("entities/by-query", views.EntitiesByQueryView.as_view(), name="entities_by_query"),
    path(
        "entities/by-name/<str:kind>/<str:namespace>/<str:name>",
        views.EntityByNameView.as_view(),
        name="entity_by_name",
    ),
    path(
        "entities/by-name/<str:kind>/<str:namespace>/<str:name>/ancestry",
        views.EntityAncestryView.as_view(),
        name="entity_ancestry",
    ),
    path("entities/by-uid/<str:uid>", views.EntityByUidView.as_view(), name="entity_by_uid"),
    path("entities/by-refs", views.EntitiesByRefsView.as_view(), name="entities_by_refs"),
    path("entity-facets", views.EntityFacetsView.as_view(), name="entity_facets"),
    path("refresh", views.RefreshView.as_view(), name="refresh"),
    path("refresh-requests/<int:pk>", views.RefreshRequestDetailView.as_view(), name="refresh_request_detail"),
    path("validate-entity", views.ValidateEntityView.as_view(), name="validate_entity"),
    path("locations", views.LocationListView.as_view(), name="location_list"),
    path("locations/by-query", views.LocationsByQueryView.as_view(), name="locations_by_query"),
    path(
        "locations/by-entity/<str:kind>/<str:namespace>/<str:name>",
        views.LocationByEntityView.as_view(),
        name="location_by_entity",
    ),
    path("analyze-location", views.AnalyzeLocationView.as_view(), name="analyze_location"),
    path("locations/<int:pk>", views.LocationDetailView.as_view(), name="location_detail"),
    path("locations/<int:pk>/trust", views.LocationTrustView.as_view(), name="location_trust"),
    path("locations/<int:pk>/adopt", views.LocationAdoptView.as_view(), name="location_adopt"),
    re_path(r"^[\s\S]*$", views.NotFoundView.as_view(), name="not_found"),  # newlines too
]
