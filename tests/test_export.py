"""/participants/export.csv: the current filter as CSV in the import format, streamed in
chunks with a fixed number of queries per chunk."""

import csv
import io
import math
import types

import pytest
from django.db import connection
from django.db.models import Case, Value, When
from django.http import QueryDict, StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from directory import catalog
from directory.csvio import EXPORT_COLUMNS, import_participants, iter_csv
from directory.csvio import export as importer
from directory.csvio.common import neutralise_formula
from directory.models import LIST_SEPARATOR, Offering, Participant, Segment, Tag
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


def test_bom_1_starts_the_file_with_a_byte_order_mark_for_excel(client, small_chain):
    plain = b"".join(client.get("/participants/export.csv?country=CN").streaming_content)
    excel = b"".join(client.get("/participants/export.csv?country=CN&bom=1").streaming_content)
    assert plain.startswith(b"name_en,") and excel == b"\xef\xbb\xbf" + plain
    assert "寒武纪" in excel.decode("utf-8-sig")
    report = import_participants(excel, dry_run=True)  # the importer skips the mark
    assert not report.errors and report.count("unchanged") == 2
    body = client.get("/participants/?country=CN").content.decode()
    assert 'href="/participants/export.csv?country=CN" download>Download CSV</a>' in body
    assert 'href="/participants/export.csv?country=CN&amp;bom=1" download>for Excel</a>' in body
    assert (
        'href="/participants/export.csv?bom=1" download>for Excel</a>'
        in client.get("/participants/").content.decode()
    )


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


@pytest.mark.parametrize("size", [3, 30])
def test_queries_are_fixed_plus_two_per_chunk(client, db, django_assert_num_queries, monkeypatch, size):
    make_chain(size)
    monkeypatch.setattr(importer, "EXPORT_CHUNK_SIZE", 4)
    chunks = math.ceil(size / 4)
    # segments and kinds of record (what the filters refer to), participants with their
    # parents' slugs (one cursor, read chunk by chunk); then per chunk: its offerings, tags
    with django_assert_num_queries(3 + 2 * chunks):
        found = rows(client.get("/participants/export.csv"))
    assert [r["slug"] for r in found] == [f"bulk-{i:03d}" for i in range(size)]


def _old_export(queryset):
    """The export as the model-instance writer wrote it before the values() writer: the
    reference the new one must match byte for byte."""
    writer = csv.writer(importer._Echo())
    lines = [writer.writerow(EXPORT_COLUMNS)]
    for participant in queryset.select_related("parent").prefetch_related("offerings__segment", "tags"):
        offerings = sorted(
            participant.offerings.all(), key=lambda o: (o.segment.order, o.segment.slug, o.name)
        )
        values = {
            "name_en": participant.name_en,
            "name_zh": participant.name_zh,
            "segment": LIST_SEPARATOR.join(dict.fromkeys(o.segment.slug for o in offerings)),
            "website": participant.website,
            "country": participant.country,
            "founded": "" if participant.founded is None else str(participant.founded),
            "open_source": participant.open_source,
            "description_en": participant.description_en,
            "slug": participant.slug,
            "description_zh": participant.description_zh,
            "kind": participant.kind,
            "tags": LIST_SEPARATOR.join(sorted(t.name for t in participant.tags.all())),
            "parent": participant.parent.slug if participant.parent_id else "",
            "offerings": LIST_SEPARATOR.join(f"{o.segment.slug}:{o.name}" for o in offerings),
            "last_verified": participant.last_verified.isoformat() if participant.last_verified else "",
            "notes": participant.notes,
        }
        lines.append(writer.writerow([neutralise_formula(values[c]) for c in EXPORT_COLUMNS]))
    return "".join(lines)


@pytest.fixture
def rich_chain(small_chain):
    """Participants exercising every export column: offerings in several segments (added
    out of chain order, and one segment moved first so chain order is not id order), tags
    in mixed scripts and case, a parent, formula-looking cells, quotes, commas and line
    breaks, Chinese text and an unknown founding year."""
    Segment.objects.filter(slug="industry-apps").update(order=0)
    holding = make_participant(
        "holding", ("cloud-compute",), name_en="=Holding Group", name_zh="控股集团", founded=None
    )
    sub = make_participant(
        "sub-lab",
        ("foundation-models",),
        name_en="+Sub Lab",
        name_zh="-子实验室",
        description_en='@handle, "quoted", and a\nsecond line',
        description_zh="\t制表符开头的中文说明",
        website="https://sub.example.cn/",
        country="CN",
        kind="research",
        open_source="partly",
        founded=2019,
        parent=holding,
    )
    segments = {s.slug: s for s in Segment.objects.all()}
    for segment, name in [
        ("industry-apps", "智能客服"),
        ("ai-chips", "Zeta NPU"),
        ("ai-chips", "alpha TPU"),
        ("ai-chips", "=SUM(A1)"),
        ("cloud-compute", "'quoted cloud"),
    ]:
        Offering.objects.create(participant=sub, segment=segments[segment], name=name)
    for slug, name in [("rag", "rag"), ("gpu", "GPU"), ("zh", "中文标签"), ("zeta", "Zeta")]:
        sub.tags.add(Tag.objects.create(slug=slug, name=name))
    small_chain["cambricon"].tags.add(Tag.objects.get(slug="gpu"))
    Participant.objects.filter(slug="openai").update(description_en="'=already quoted")
    return {**small_chain, "holding": holding, "sub": sub}


def test_row_format_is_pinned(rich_chain):
    exported = "".join(iter_csv(Participant.objects.filter(slug="sub-lab")))
    assert exported == (
        "name_en,name_zh,segment,website,country,founded,open_source,description_en,slug,"
        "description_zh,kind,tags,parent,offerings,last_verified,notes\r\n"
        "'+Sub Lab,'-子实验室,industry-apps|ai-chips|cloud-compute|foundation-models,"
        "https://sub.example.cn/,CN,2019,partly,"
        '"\'@handle, ""quoted"", and a\nsecond line",sub-lab,\'\t制表符开头的中文说明,research,'
        "GPU|Zeta|rag|中文标签,holding,"
        "industry-apps:智能客服|ai-chips:=SUM(A1)|ai-chips:Zeta NPU|ai-chips:alpha TPU|"
        "cloud-compute:'quoted cloud|foundation-models:+Sub Lab offering,,\r\n"
    )


@pytest.mark.parametrize("chunk_size", [1, 2, 1000])
@pytest.mark.parametrize(
    "ordering", [["name_en", "pk"], ["-founded", "name_en", "pk"], ["-updated_at", "-pk"]]
)
def test_output_is_the_old_writers_byte_for_byte(rich_chain, chunk_size, ordering):
    queryset = Participant.objects.order_by(*ordering)
    assert "".join(iter_csv(queryset, chunk_size=chunk_size)) == _old_export(queryset)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "q=lab",
        "q=子实验室",
        "segment=ai-chips&ordering=-name",
        "tier=upstream&ordering=founded",
        "country=CN&segment=zzz",
    ],
)
def test_view_matches_the_old_writer_for_listing_filters(client, rich_chain, monkeypatch, query):
    monkeypatch.setattr(importer, "EXPORT_CHUNK_SIZE", 2)
    expected = catalog.export(catalog.Criteria.parse(QueryDict(query)))
    if isinstance(expected, list):  # a search in relevance order: the ids of the matches
        order = Case(*(When(pk=pk, then=Value(i)) for i, pk in enumerate(expected)))
        expected = Participant.objects.filter(pk__in=expected).order_by(order)
    exported = b"".join(client.get(f"/participants/export.csv?{query}").streaming_content).decode()
    assert exported == _old_export(expected)
    assert len(list(csv.reader(io.StringIO(exported)))) > 1  # not just the header


def test_callers_prefetches_and_joins_change_nothing(rich_chain, django_assert_num_queries):
    # As the admin's action passes its changelist queryset: participants, then the one
    # chunk's offerings and tags; the prefetch adds no query.
    queryset = Participant.objects.select_related("parent").prefetch_related("offerings", "tags")
    with django_assert_num_queries(3):
        exported = "".join(iter_csv(queryset.order_by("slug")))
    assert exported == _old_export(Participant.objects.order_by("slug"))


def test_rich_export_round_trips(client, rich_chain):
    data = b"".join(client.get("/participants/export.csv").streaming_content)
    report = import_participants(data, dry_run=True)
    assert not report.errors and report.count("unchanged") == 7
    Participant.objects.all().delete()
    assert import_participants(data).written
    sub = Participant.objects.get(slug="sub-lab")
    assert (sub.name_en, sub.name_zh, sub.parent.slug) == ("+Sub Lab", "-子实验室", "holding")
    assert sub.description_zh == "\t制表符开头的中文说明"
    assert b"".join(client.get("/participants/export.csv").streaming_content) == data


def test_writer_reads_chunk_by_chunk(rich_chain):
    """The export is a generator that asks for one chunk at a time: the header costs no
    query, each later piece holds at most ``chunk_size`` rows and runs its own two queries
    only when it is asked for."""
    total = Participant.objects.count()
    export = iter_csv(Participant.objects.order_by("name_en", "pk"), chunk_size=3)
    assert isinstance(export, types.GeneratorType)
    with CaptureQueriesContext(connection) as queries:
        assert next(export) == ",".join(EXPORT_COLUMNS) + "\r\n"
        assert len(queries) == 0
        pieces = [next(export)]
        assert len(queries) == 3  # participants (opened once), this chunk's offerings and tags
        for piece in export:
            pieces.append(piece)
    sizes = [len(list(csv.reader(io.StringIO(piece)))) for piece in pieces]
    assert sizes == [3] * (total // 3) + ([total % 3] if total % 3 else [])
    assert len(queries) == 1 + 2 * len(pieces)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="server-side cursors are PostgreSQL's")
@pytest.mark.postgres
def test_participants_stream_through_a_server_side_cursor(rich_chain):
    """On PostgreSQL the participants stay in a cursor on the server while the export
    runs (Python holds one chunk), and the cursor is closed once the export is read."""
    export = iter_csv(Participant.objects.all(), chunk_size=2)
    next(export), next(export)
    with connection.cursor() as cursor:  # pg_cursors lists this session's cursors only
        cursor.execute("SELECT count(*) FROM pg_cursors")
        assert cursor.fetchone()[0] == 1
        list(export)
        cursor.execute("SELECT count(*) FROM pg_cursors")
        assert cursor.fetchone()[0] == 0


@pytest.mark.parametrize(
    ("url", "header"),
    [
        ("/relationships/export.csv", b"supplier,customer,kind,"),
        ("/records/export.csv", b"participant,kind,"),
        ("/records/export.csv?kinds=1", b"slug,name_en,"),
    ],
)
def test_every_export_offers_the_byte_order_mark_for_excel(client, small_chain, url, header):
    plain = b"".join(client.get(url).streaming_content)
    excel = b"".join(client.get(f"{url}{'&' if '?' in url else '?'}bom=1").streaming_content)
    assert plain.startswith(header) and excel == b"\xef\xbb\xbf" + plain
