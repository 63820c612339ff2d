"""The public URL contract of DESIGN.md."""

from django.urls import path

from .views import browse, health, submissions

app_name = "directory"

urlpatterns = [
    path("", browse.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("submit/", submissions.submit, name="submit"),
    path("participants/<slug:slug>/suggest/", submissions.suggest, name="suggest"),
    path("submissions/<slug:token>/", submissions.submission_status, name="submission_status"),
]
