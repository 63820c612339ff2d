"""Routes of the read API under /api/ (namespace ``api``), as docs/design.md's URL contract names them."""

from django.urls import path, re_path

from directory.api import views as api

app_name = "api"

urlpatterns = [
    path("", api.Index.as_view(), name="index"),
    path("segments/", api.SegmentList.as_view(), name="segment-list"),
    path("participants/", api.ParticipantList.as_view(), name="participant-list"),
    path("participants/<slug:slug>/", api.ParticipantDetail.as_view(), name="participant-detail"),
    path("participants/<slug:slug>/graph/", api.ParticipantGraph.as_view(), name="participant-graph"),
    path("relationships/", api.RelationshipList.as_view(), name="relationship-list"),
    path("flows/", api.FlowList.as_view(), name="flow-list"),
    path("records/", api.RecordList.as_view(), name="record-list"),
    path("schema/", api.SchemaView.as_view(), name="schema"),
    path("docs/", api.DocsView.as_view(), name="docs"),
    re_path(r"", api.not_found),
]
