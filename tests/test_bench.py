"""manage.py bench: measures every page of the issue's table at each size, writes JSON,
and leaves the real data as it was."""

import json

import pytest
from django.core.management import call_command

from directory.models import Participant

from .conftest import make_participant

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
    "API participants by segment",
    "export.csv (everything)",
}


def test_bench_measures_every_page_and_cleans_up(tmp_path, capsys):
    make_participant("nvidia", name_en="NVIDIA")
    output = tmp_path / "bench.json"
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
    exports = [r for r in rows if r["page"].startswith("export.csv")]
    assert all(r["peak_memory_kb"] and r["first_rows_p50_ms"] and r["bytes"] for r in exports)
    assert "listing, filtered" in capsys.readouterr().out  # the table is printed
    assert list(Participant.objects.values_list("slug", flat=True)) == ["nvidia"]  # synthetic data removed
