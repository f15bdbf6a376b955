from django.urls import path

from dataproducts.views import component, dataproduct, domains, edit, home, wizard

app_name = "dataproducts"

# Mounted at /builder/.
urlpatterns = [
    # --- home, domains ---
    path("", home.home, name="home"),
    path("domains/", domains.domain_list, name="domain_list"),
    path("domains/new/", domains.domain_create, name="domain_create"),
    path("domains/<str:name>/edit/", domains.domain_edit, name="domain_edit"),
    # --- wizard (templates, create) ---
    path("templates/", wizard.template_list, name="template_list"),
    path("create/<path:template>/", wizard.dataproduct_create_wizard, name="dataproduct_create_wizard"),
]

# Mounted at /dp/ (PRODUCT §9: /dp/<entity name>/).
dp_urlpatterns = [
    # --- data product, component, edit ---
    path("<str:name>/", dataproduct.dataproduct_detail, name="dataproduct_detail"),
    path(
        "<str:name>/descriptor/<str:environment>.yaml",
        dataproduct.dataproduct_descriptor_download,
        name="dataproduct_descriptor_download",
    ),
    path("<str:name>/edit/", edit.entity_edit_view, name="dataproduct_edit"),
    # --- releases ---
    path("<str:name>/releases/draft/", dataproduct.release_draft_create, name="release_draft_create"),
    path("<str:name>/releases/promote/", dataproduct.release_promote, name="release_promote"),
    path("<str:name>/releases/major/", dataproduct.release_major_create, name="release_major_create"),
    path("<str:name>/c/<str:slug>/", component.component_detail, name="component_detail"),
    path("<str:name>/c/<str:slug>/edit/", edit.entity_edit_view, name="component_edit"),
    path("<str:name>/c/<str:slug>/remove/", component.component_remove, name="component_remove"),
    # --- wizard (add component) ---
    path("<str:name>/add/<path:template>/", wizard.component_create_wizard, name="component_create_wizard"),
]
