"""The public URL contract of DESIGN.md."""

from django.urls import path

from .views import browse, health

app_name = "directory"

urlpatterns = [
    path("", browse.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
]
