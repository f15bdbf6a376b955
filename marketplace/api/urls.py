app_name = "marketplace-api"

urlpatterns: list = []
