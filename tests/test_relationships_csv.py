"""The relationships CSV: /relationships/export.csv and ``import_relationships`` with
status, dates, segments, evidence in both languages and sources (several per link,
separated by ``|``). Export then import is lossless and byte-identical, a second import
changes nothing, ``--dry-run`` writes nothing, and a bad row is reported with its line
number and reason while nothing at all is written."""

import csv
import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from directory.csvio import import_relationships
from directory.csvio.relationships import COLUMNS
from directory.models import Relationship, Segment, Source
from tests.conftest import make_link, make_participant

pytestmark = pytest.mark.django_db

HEADER = ",".join(COLUMNS)


def export(client):
    response = client.get("/relationships/export.csv")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def rows(data):
    return list(csv.DictReader(io.StringIO(data.decode())))


def snapshot():
    """Every link as a comparable value: its fields, segments and sources."""
    return {
        (
            link.supplier.slug,
            link.customer.slug,
            link.kind,
            link.status,
            link.since,
            link.until,
            link.supplied_segment.slug,
            link.customer_segment.slug,
            link.evidence,
            link.evidence_zh,
            frozenset((s.publisher, s.title, s.published, s.url, s.checked) for s in link.sources.all()),
        )
        for link in Relationship.objects.select_related(
            "supplier", "customer", "supplied_segment", "customer_segment"
        ).prefetch_related("sources")
    }


@pytest.fixture
def sourced(small_chain):
    """Links of every status with dates, a sub-segment, evidence that needs quoting or
    escaping, several sources each (one shared, one without URL or date checked, one
    whose title a spreadsheet would run as a formula), a tie, and a link to a draft
    participant that is not exported."""
    nvidia, azure, openai = small_chain["nvidia"], small_chain["azure"], small_chain["openai"]
    cloud = Segment.objects.get(slug="cloud-compute")
    Segment.objects.create(slug="gpu-cloud", name_en="GPU clouds", tier="upstream", parent=cloud, order=1)
    neocloud = make_participant("neocloud", ("gpu-cloud",), name_en="Neocloud", country="CN")
    reuters = Source.objects.create(
        publisher="Reuters",
        title="Chip deals, 2023",
        published="2023-11-02",
        url="https://example.com/reuters",
        checked=datetime.date(2025, 1, 31),
    )
    filing = Source.objects.create(publisher="SEC", title="10-K", published="2024")
    formula = Source.objects.create(
        publisher="微软", title="=HYPERLINK(1)", published="2022-05", url="http://example.org/ms"
    )
    first = Relationship.objects.get(supplier=nvidia, customer=azure)
    first.since_year, first.since_month = 2023, 3
    first.evidence = 'ND H100 v5, "generally available";\nsecond line'
    first.evidence_zh = "ND H100 v5 虚拟机。"
    first.save()
    first.sources.add(reuters, filing, formula)
    make_link(
        nvidia, neocloud, "chips", received="gpu-cloud", status="planned", since_year=2026, evidence="-5% off"
    ).sources.add(reuters)
    make_link(
        small_chain["cambricon"],
        neocloud,
        "hardware",
        status="ended",
        since_year=2021,
        since_month=1,
        until_year=2024,
        until_month=12,
    ).sources.add(filing)
    make_link(azure, openai, "investment", since_year=2019)
    Relationship.objects.get(supplier=azure, customer=openai, kind="compute").sources.add(formula)
    draft = make_participant("draft-lab", ("foundation-models",), status="draft")
    make_link(azure, draft, "compute")
    return small_chain


def test_export_writes_every_public_link_with_its_sources(client, sourced):
    response = client.get("/relationships/export.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="chainsite-relationships.csv"'
    found = rows(b"".join(response.streaming_content))
    assert list(found[0]) == COLUMNS
    assert [(r["supplier"], r["customer"], r["kind"]) for r in found] == [
        ("azure", "openai", "compute"),
        ("azure", "openai", "investment"),
        ("cambricon", "neocloud", "hardware"),
        ("nvidia", "azure", "chips"),
        ("nvidia", "neocloud", "chips"),
    ]
    chips = found[3]
    assert (chips["status"], chips["since"], chips["until"]) == ("active", "2023-03", "")
    assert (chips["supplied_segment"], chips["customer_segment"]) == ("ai-chips", "cloud-compute")
    assert chips["evidence"] == 'ND H100 v5, "generally available";\nsecond line'
    # sources in date order, each column holding one item per source
    assert chips["source_publisher"] == "微软|Reuters|SEC"
    assert chips["source_title"] == "'=HYPERLINK(1)|Chip deals, 2023|10-K"
    assert chips["source_date"] == "2022-05|2023-11-02|2024"
    assert chips["source_url"] == "http://example.org/ms|https://example.com/reuters|"
    assert chips["source_checked"] == "|2025-01-31|"
    ended = found[2]
    assert (ended["status"], ended["since"], ended["until"]) == ("ended", "2021-01", "2024-12")
    assert found[4]["customer_segment"] == "gpu-cloud" and found[4]["evidence"] == "'-5% off"
    assert "draft-lab" not in b"".join(client.get("/relationships/export.csv").streaming_content).decode()


def test_export_import_export_is_byte_identical(client, sourced):
    first = export(client)
    before = snapshot() - {s for s in snapshot() if s[1] == "draft-lab"}
    Relationship.objects.all().delete()
    Source.objects.all().delete()
    report = import_relationships(first)
    assert not report.errors and report.written
    assert report.count("create") == 5
    assert snapshot() == before
    assert Source.objects.count() == 3  # each source stored once, however many links cite it
    assert export(client) == first
    # every new link has a history row: the change feed's "new link" (or "link ended")
    imported = Relationship.history.filter(history_type="+", history_change_reason="CSV import")
    assert sorted(imported.values_list("event", flat=True)) == ["ended", "new", "new", "new", "new"]

    history = Relationship.history.count()
    again = import_relationships(first)
    assert (again.count("unchanged"), again.count("create"), again.count("update")) == (5, 0, 0)
    assert Relationship.history.count() == history  # nothing written
    assert export(client) == first


def test_import_updates_what_changed_and_only_that(client, sourced):
    data = export(client).decode()
    data = data.replace("nvidia,neocloud,chips,planned,2026,", "nvidia,neocloud,chips,active,2026,")
    data = data.replace("2025-01-31", "2025-06-30")  # the Reuters article checked again
    report = import_relationships(data.encode())
    assert not report.errors
    changed = {r.key: r.changes for r in report.rows if r.action == "update"}
    assert changed == {
        "nvidia -> azure -> chips": ["sources"],
        "nvidia -> neocloud -> chips": ["status", "sources"],
    }
    link = Relationship.objects.get(supplier__slug="nvidia", customer__slug="neocloud")
    assert link.status == "active" and link.history.latest().event == "status"
    assert Source.objects.get(publisher="Reuters").checked == datetime.date(2025, 6, 30)
    assert Source.objects.count() == 3
    assert import_relationships(data.encode()).count("unchanged") == 5


def test_dry_run_writes_nothing(client, sourced, tmp_path, capsys):
    path = tmp_path / "links.csv"
    path.write_bytes(export(client))
    Relationship.objects.all().delete()
    Source.objects.all().delete()
    history = Relationship.history.count()
    call_command("import_relationships", str(path), "--dry-run")
    assert (
        "dry run, nothing written: 5 created, 0 updated, 0 unchanged, 0 with errors"
        in capsys.readouterr().out
    )
    assert (Relationship.objects.count(), Source.objects.count(), Relationship.history.count()) == (
        0,
        0,
        history,
    )
    call_command("import_relationships", str(path))
    assert Relationship.objects.count() == 5 and Source.objects.count() == 3


def test_a_status_and_segments_default_when_left_out(small_chain):
    both = make_participant("both", ("cloud-compute", "ai-chips"))
    report = import_relationships("supplier,customer,kind\nboth,zhipu-ai,chips\n")
    assert report.written
    link = Relationship.objects.get(supplier=both)
    assert (link.status, link.supplied_segment.slug, link.customer_segment.slug) == (
        "active",
        "ai-chips",
        "foundation-models",
    )


GOOD = "cambricon,zhipu-ai,chips,active,2024,,ai-chips,foundation-models,,,,,,,"


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            "cambricon,zhipu-ai,chips,active,2024,,no-such-segment,foundation-models,,,,,,,",
            "supplied_segment: unknown segment no-such-segment",
        ),
        (
            "cambricon,zhipu-ai,chips,active,2024,,ai-chips,cloud-compute,,,,,,,",
            "customer_segment: cloud-compute is not one of the customer's segments (it has no offering"
            " there)",
        ),
        (
            "cambricon,zhipu-ai,chips,active,2024-13,,ai-chips,,,,,,,,",
            "since: 2024-13 is not YYYY or YYYY-MM",
        ),
        ("cambricon,zhipu-ai,chips,active,24,,ai-chips,,,,,,,,", "since: 24 is not YYYY or YYYY-MM"),
        ("cambricon,zhipu-ai,chips,ended,2020,2019/05,,,,,,,,,", "until: 2019/05 is not YYYY or YYYY-MM"),
        ("cambricon,zhipu-ai,chips,ended,2020-06,2020-05,,,,,,,,,", "until: before since"),
        ("cambricon,zhipu-ai,chips,ended,2020,,,,,,,,,,", "until: an ended link needs the year it ended"),
        ("cambricon,zhipu-ai,chips,paused,2020,,,,,,,,,,", "status: must be one of planned, active, ended"),
        ("cambricon,zhipu-ai,partner,active,,,,,,,,,,,", "kind: must be one of"),
        (
            "cambricon,zhipu-ai,chips,active,,,,,,,Reuters|SEC,Deal,2024|2025,,",
            "source_title: 1 item(s) for 2 source(s); separate them with |",
        ),
        (
            "cambricon,zhipu-ai,chips,active,,,,,,,Reuters,Deal,2024,https://a.example.com/|https://b.example.com/,",
            "source_url: 2 item(s) for 1 source(s); separate them with |",
        ),
        ("cambricon,zhipu-ai,chips,active,,,,,,,,Deal,2024,,", "source_title: 1 item(s) for 0 source(s)"),
        (
            "cambricon,zhipu-ai,chips,active,,,,,,,Reuters,Deal,24 May,,",
            "source_date: 24 May is not YYYY, YYYY-MM or YYYY-MM-DD",
        ),
        (
            "cambricon,zhipu-ai,chips,active,,,,,,,Reuters,Deal,2024,javascript:alert(1),",
            "source_url: not an http(s) address: javascript:alert(1)",
        ),
        (
            "cambricon,zhipu-ai,chips,active,,,,,,,Reuters,Deal,2024,,31/01/2025",
            "source_checked: 31/01/2025 is not YYYY-MM-DD",
        ),
        (
            "cambricon,zhipu-ai,chips,active,,,,,,,Reuters|,Deal|Other,2024|2025,,",
            "source 2: a source needs a publisher",
        ),
        ("cambricon,nobody,chips,active,,,,,,,,,,,", "customer: no participant with slug nobody"),
        (GOOD, "same supplier, customer and kind as line 2"),
    ],
)
def test_a_bad_row_gives_its_line_and_reason_and_nothing_is_written(
    small_chain, tmp_path, capsys, line, error
):
    before = snapshot()
    sources = Source.objects.count()
    path = tmp_path / "links.csv"
    path.write_text(
        f"{HEADER}\n{GOOD}\nnvidia,openai,chips,active,2025,,,,,,,,,,\n{line}\n", encoding="utf-8"
    )
    with pytest.raises(CommandError, match="1 bad row"):
        call_command("import_relationships", str(path))
    err = capsys.readouterr().err
    assert f"line 4: {error}" in err
    assert "line 2" not in err.replace("as line 2", "") and "line 3" not in err
    assert snapshot() == before  # not even the good rows
    assert Source.objects.count() == sources
    report = import_relationships(path.read_bytes())
    assert [row.line for row in report.errors] == [4] and not report.written


def test_a_source_checked_on_two_dates_in_one_file_is_refused(small_chain):
    data = (
        "supplier,customer,kind,source_publisher,source_title,source_date,source_checked\n"
        "cambricon,zhipu-ai,chips,Reuters,Deal,2024,2025-01-02\n"
        "nvidia,zhipu-ai,chips,Reuters,Deal,2024,2025-03-02\n"
    )
    report = import_relationships(data)
    assert not report.written
    assert [(r.line, r.errors) for r in report.errors] == [
        (3, ["source_checked: Reuters, Deal checked 2025-03-02 here but 2025-01-02 on line 2"])
    ]
    assert not Source.objects.exists() and Relationship.objects.count() == 2


def test_the_import_runs_in_batches_of_queries(small_chain):
    """Queries do not grow with the number of rows (below a batch of 500)."""

    def queries(n):
        Relationship.objects.all().delete()
        people = [make_participant(f"imp-{n}-{i}", ("ai-chips",)) for i in range(n + 1)]
        lines = "".join(
            f"{a.slug},{b.slug},chips,active,2024,,,,,,Reuters|SEC,Deal {i}|10-K,2024|2023,,\n"
            for i, (a, b) in enumerate(zip(people, people[1:], strict=False))
        )
        with CaptureQueriesContext(connection) as captured:
            report = import_relationships(f"{HEADER}\n{lines}")
        assert report.written and report.count("create") == n
        return len(captured)

    assert queries(3) == queries(40)


@pytest.mark.parametrize("size", [5, 60])
def test_export_query_count_is_constant(client, django_assert_num_queries, size):
    from tests.test_flows import chain_with_sources

    chain_with_sources(size)
    # the links with both sides and segments, their sources
    with django_assert_num_queries(2):
        data = export(client)
    assert len(rows(data)) == size - 1
