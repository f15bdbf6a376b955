app_name = "dataproducts-api"

urlpatterns: list = []
