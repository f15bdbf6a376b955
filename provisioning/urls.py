# Deployment pages arrive with the provisioning feature; the built-in tech adapters will mount here too.
app_name = "provisioning"

urlpatterns: list = []
