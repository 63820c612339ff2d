"""manage.py bench: measures every page of the issue's table at each size, writes JSON,
and leaves the real data as it was."""

import json

import pytest
from django.core.management import call_command
from django.test import override_settings

from directory.management.commands.bench import _targets
from directory.models import Participant, RecordKind
from tests.conftest import make_participant

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = {
    "trivial view (baseline)",
    "page layout only (404 page)",
    "/ (chain map)",
    "segment page",
    "listing, unfiltered",
    "listing, filtered",
    "search, common word",
    "search, rare word",
    "search, Chinese word",
    "listing, -updated, page 50",
    "participant page",
    "listing in Chinese, A–Z (pinyin)",
    "chain flows",
    "chain links between two segments",
    "changes",
    "records of a kind",
    "API participants by segment",
    "API relationships",
    "API flows",
    "API participant graph",
    "export.csv (everything)",
}


def test_bench_measures_every_page_and_cleans_up(tmp_path, capsys):
    make_participant("nvidia", name_en="NVIDIA")
    RecordKind.objects.create(
        slug="us-entity-list",
        name_en="US Entity List",
        jurisdiction="US",
        authority_en="BIS",
        description_en=".",
    )
    output = tmp_path / "bench.json"
    # The caches on, as a server has them (the tests' fixture turns them off), and a rate
    # limit the bench's API requests would pass if it did not lift it (7 a size here).
    with override_settings(PAGE_CACHE_SECONDS=300, COUNT_CACHE_SECONDS=3600, API_THROTTLE_RATE="3/min"):
        call_command("bench", "--sizes", "20,40", "--runs", "2", "--output", str(output))
    report = json.loads(output.read_text())
    rows = report["results"]
    assert {r["size"] for r in rows} == {20, 40}
    pages = {r["page"] for r in rows}
    assert pages >= PAGES and any(p.startswith("export.csv (segment ") for p in pages)
    for row in rows:
        assert row["statuses"] == [404 if row["page"] == "page layout only (404 page)" else 200], row
        assert row["p50_ms"] > 0 and row["p95_ms"] >= row["p50_ms"] and row["queries"]
    by_page = {(r["size"], r["page"]): r for r in rows}
    # The cards each page showed: a full first page of the listing, none on the API.
    assert by_page[(40, "listing, unfiltered")]["cards_p50"] == 20
    assert by_page[(40, "API participants by segment")]["cards_p50"] is None
    # Seen again: page-cached pages come from the page cache, the API (not page-cached) does not.
    assert by_page[(40, "listing, unfiltered")]["again_page_cache_hits"] == 2
    assert by_page[(40, "participant page")]["again_page_cache_hits"] == 2
    assert by_page[(40, "API participants by segment")]["again_page_cache_hits"] == 0
    assert all(r["again_p50_ms"] > 0 for r in rows if not r["page"].startswith("export"))
    # After a change a page's first request rebuilds what the process keeps (the index: +2).
    listing = by_page[(40, "listing, unfiltered")]
    assert listing["after_change_ms"] > 0 and listing["after_change_queries"] >= max(listing["queries"]) + 2
    assert report["targets"][0] == "targets at N=40:" and len(report["targets"]) == 7
    exports = [r for r in rows if r["page"].startswith("export.csv")]
    assert all(r["peak_memory_kb"] and r["first_rows_p50_ms"] and r["bytes"] for r in exports)
    out = capsys.readouterr().out
    assert "listing, filtered" in out and "targets at N=40:" in out  # the table and the verdicts
    assert list(Participant.objects.values_list("slug", flat=True)) == ["nvidia"]  # synthetic data removed


def _row(size, page, p50, p95=1.0, queries=(1,), again=0.3, statuses=(200,)):
    return {
        "statuses": list(statuses),
        "size": size,
        "page": page,
        "p50_ms": p50,
        "p95_ms": p95,
        "queries": list(queries),
        "ratio_to_trivial": round(p50 / 0.25, 1),
        "again_ratio_to_trivial": round(again / 0.25, 1),
    }


def test_targets_say_which_target_is_missed_and_by_what():
    results = [
        _row(1000, "trivial view (baseline)", 0.25, 90.0),  # not a page of the targets
        _row(1000, "listing, unfiltered", 2.0, queries=(1,)),
        _row(1000, "participant page", 4.0, queries=(5,)),
        _row(100000, "trivial view (baseline)", 0.25, 90.0),
        _row(100000, "listing, unfiltered", 2.4, p95=51.0, queries=(1,)),
        _row(100000, "participant page", 6.4, queries=(6,), again=2.6, statuses=(200, 429)),
    ]
    lines = _targets(results)
    assert lines[0] == "targets at N=100,000:"
    assert lines[1] == "  NOT MET  every request answered as expected: not participant page (200,429)"
    lines.pop(1)
    assert lines[1] == "  NOT MET  p95 <= 50 ms: the highest is 51.0 (listing, unfiltered)"
    assert lines[2] == (
        "  NOT MET  p50 <= 10x the trivial view, first visits: 1 of 2 pages; over it: participant page 25.6x"
    )
    assert (
        lines[3]
        == "  NOT MET  p50 <= 10x the trivial view, seen again: the highest is 10.4x (participant page)"
    )
    assert (
        lines[4]
        == "  NOT MET  p50 at N=100,000 <= 1.5x p50 at N=1,000: the highest is 1.60 (participant page)"
    )
    assert (
        lines[5]
        == "  NOT MET  the most queries a request makes is the same at every size: not for participant page"
    )


def test_targets_all_met():
    results = [
        _row(1000, "trivial view (baseline)", 0.25),
        _row(1000, "listing, unfiltered", 2.0),
        _row(100000, "trivial view (baseline)", 0.25),
        _row(100000, "listing, unfiltered", 2.4, p95=50.0),
    ]
    assert [line[:9] for line in _targets(results)[1:]] == ["  met    "] * 6
