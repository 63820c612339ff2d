"""The addresses without a language: the language switch, and files whose content is the
same in every language (CSV exports, sitemap.xml, robots.txt, favicon, health check).
Namespace "files"; the pages are in ``urls.py``."""

from django.contrib.sitemaps.views import sitemap
from django.urls import path

from directory.web.language import switch_language
from directory.web.sitemaps import SITEMAPS
from directory.web.views import browse, chain, health, meta, records

app_name = "files"

urlpatterns = [
    path("i18n/setlang/", switch_language, name="set_language"),
    path("participants/export.csv", browse.participant_export, name="export"),
    path("relationships/export.csv", chain.relationships_export, name="relationships_export"),
    path("records/export.csv", records.records_export, name="records_export"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", meta.robots_txt, name="robots"),
    path("favicon.ico", meta.favicon, name="favicon"),
    path("healthz", health.healthz, name="healthz"),
]
