app_name = "provisioning-api"

urlpatterns: list = []
