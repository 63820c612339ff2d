"""The public URL contract of docs/design.md: the pages, under a language prefix
(``/en/``, ``/zh-hans/``; ``chainsite/urls.py`` wraps them in ``i18n_patterns``), and the
files that have no language (``file_urls.py``: CSV exports, sitemap, robots.txt,
favicon, health check), at the root."""

from django.urls import path

from directory.web.feeds import RecentParticipantsFeed
from directory.web.views import browse, chain, records, submissions

app_name = "directory"

urlpatterns = [
    path("", browse.home, name="home"),
    path("segments/<slug:slug>/", browse.segment_detail, name="segment"),
    path("participants/", browse.participant_list, name="participants"),
    path("participants/<slug:slug>/", browse.participant_detail, name="participant"),
    path("chain/flows/", chain.flows, name="flows"),
    path("chain/links/", chain.chain_links, name="chain_links"),
    path("changes/", chain.changes, name="changes"),
    path("records/", records.record_kinds, name="record_kinds"),
    path("records/<slug:kind>/", records.record_kind, name="record_kind"),
    path("changes/feed/", chain.ChangesFeed(), name="changes_feed"),
    path("feed/atom/", RecentParticipantsFeed(), name="feed"),
    path("submit/", submissions.submit, name="submit"),
    path("participants/<slug:slug>/suggest/", submissions.suggest, name="suggest"),
    path("submissions/<slug:token>/", submissions.submission_status, name="submission_status"),
]
