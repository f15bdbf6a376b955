from django.urls import path

from governance import views

app_name = "governance"

urlpatterns = [
    path("", views.home, name="home"),
    path("policies/<slug:name>/", views.policy_detail, name="policy_detail"),
    path("policies/<slug:name>/lifecycle/", views.policy_lifecycle, name="policy_lifecycle"),
    path("policies/<slug:name>/check/", views.policy_check, name="policy_check"),
    path("policies/<slug:name>/bench/", views.policy_bench, name="policy_bench"),
    path("bench/<int:pk>/", views.bench_run_detail, name="bench_run_detail"),
]
