"""The public URL contract of docs/design.md."""

from django.contrib.sitemaps.views import sitemap
from django.urls import path

from directory.web.feeds import RecentParticipantsFeed
from directory.web.sitemaps import SITEMAPS
from directory.web.views import browse, chain, health, meta, records, submissions

app_name = "directory"

urlpatterns = [
    path("", browse.home, name="home"),
    path("segments/<slug:slug>/", browse.segment_detail, name="segment"),
    path("participants/", browse.participant_list, name="participants"),
    path("participants/export.csv", browse.participant_export, name="export"),
    path("participants/<slug:slug>/", browse.participant_detail, name="participant"),
    path("chain/flows/", chain.flows, name="flows"),
    path("chain/links/", chain.chain_links, name="chain_links"),
    path("changes/", chain.changes, name="changes"),
    path("records/", records.record_kinds, name="record_kinds"),
    path("records/export.csv", records.records_export, name="records_export"),
    path("records/<slug:kind>/", records.record_kind, name="record_kind"),
    path("changes/feed/", chain.ChangesFeed(), name="changes_feed"),
    path("relationships/export.csv", chain.relationships_export, name="relationships_export"),
    path("feed/atom/", RecentParticipantsFeed(), name="feed"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", meta.robots_txt, name="robots"),
    path("favicon.ico", meta.favicon, name="favicon"),
    path("healthz", health.healthz, name="healthz"),
    path("submit/", submissions.submit, name="submit"),
    path("participants/<slug:slug>/suggest/", submissions.suggest, name="suggest"),
    path("submissions/<slug:token>/", submissions.submission_status, name="submission_status"),
]
