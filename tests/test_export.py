"""/participants/export.csv: the current filter as CSV in the import format, streamed."""

import csv
import io

import pytest
from django.http import StreamingHttpResponse

from directory.importer import EXPORT_COLUMNS, import_participants
from directory.models import Participant
from tests.conftest import make_chain, make_participant

pytestmark = pytest.mark.django_db


def rows(response):
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_export_streams_the_filtered_listing(client, small_chain):
    make_participant("hidden", ("ai-chips",), country="CN", status="draft")
    response = client.get("/participants/export.csv?segment=ai-chips&country=CN")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="chainsite-participants.csv"'
    found = rows(response)
    assert [r["slug"] for r in found] == ["cambricon"]
    assert list(found[0]) == EXPORT_COLUMNS
    assert found[0]["name_zh"] == "寒武纪" and found[0]["segment"] == "ai-chips"


def test_export_without_filter_has_every_published_participant(client, small_chain):
    make_participant("hidden", status="archived")
    found = rows(client.get("/participants/export.csv"))
    assert sorted(r["slug"] for r in found) == sorted(p.slug for p in small_chain.values())


def test_export_follows_search_and_ordering(client, small_chain):
    assert [r["slug"] for r in rows(client.get("/participants/export.csv?q=寒武纪"))] == ["cambricon"]
    found = rows(client.get("/participants/export.csv?ordering=-name"))
    assert [r["slug"] for r in found] == ["zhipu-ai", "openai", "nvidia", "azure", "cambricon"]


def test_export_then_import_changes_nothing(client, small_chain):
    data = b"".join(client.get("/participants/export.csv").streaming_content)
    report = import_participants(data, dry_run=True)
    assert not report.errors
    assert report.count("unchanged") == 5


@pytest.mark.parametrize(
    "query", ["page=abc", "country=%ff", "q=%00", "segment=zzz&segment=ai-chips", "q=" + "y" * 10_000]
)
def test_bad_values_never_error(client, small_chain, query):
    response = client.get(f"/participants/export.csv?{query}")
    assert response.status_code == 200
    assert rows(response)


@pytest.mark.parametrize("size", [5, 60])
def test_query_count_is_constant(client, db, django_assert_max_num_queries, size):
    make_chain(size)
    # segments; then per chunk of 500 rows: participants with parents, their offerings,
    # the offerings' segments, their tags
    with django_assert_max_num_queries(5):
        found = rows(client.get("/participants/export.csv"))
    assert len(found) == size == Participant.objects.count()
