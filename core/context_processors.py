from django.urls import reverse

# (label, url name, namespaces that mark the item active, staff only)
NAVIGATION = [
    ("Marketplace", "marketplace:home", {"marketplace"}, False),
    ("Builder", "dataproducts:home", {"dataproducts", "dp"}, False),
    ("Catalog", "catalog:home", {"catalog"}, False),
    ("Governance", "governance:home", {"governance"}, False),
    ("Deployments", "provisioning:deployment_list", {"provisioning"}, False),
    ("Admin", "admin:index", {"admin"}, True),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": []}
    match = getattr(request, "resolver_match", None)
    namespace = match.namespace.split(":")[0] if match else ""
    return {
        "navigation": [
            {"label": label, "url": reverse(url_name), "active": namespace in namespaces}
            for label, url_name, namespaces, staff_only in NAVIGATION
            if not staff_only or user.is_staff
        ]
    }
