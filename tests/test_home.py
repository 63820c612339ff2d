"""/: the chain map with its panels and the stats strip."""

import pytest

from directory.models import Participant, Segment
from tests.conftest import make_chain, make_participant

pytestmark = pytest.mark.django_db


def panels(response):
    return {p.segment.slug: p for t in response.context["map"]["tiers"] for p in t["panels"]}


def test_home_lists_tiers_and_segments_with_counts(client, small_chain):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    for label in (
        "Upstream",
        "Midstream",
        "Downstream",
        "AI chips",
        "Foundation models",
        "Industry applications",
    ):
        assert label in body
    counts = {slug: p.count for slug, p in panels(response).items()}
    assert counts["ai-chips"] == 2 and counts["foundation-models"] == 2 and counts["aigc-tools"] == 0
    assert [p.slug for p in panels(response)["ai-chips"].participants] == ["cambricon", "nvidia"]
    assert 'href="/segments/ai-chips/"' in body and 'href="/participants/cambricon/"' in body
    assert "<title>The LLM industry chain, link by link — chainsite</title>" in body


def test_panels_are_capped_featured_first_and_count_the_rest(client, db):
    for i in range(15):
        make_participant(f"chip-{i:02d}", ("ai-chips",), featured=i == 14)
    make_participant("draft-chip", ("ai-chips",), status="draft")
    response = client.get("/")
    panel = panels(response)["ai-chips"]
    assert panel.count == 15 and len(panel.participants) == 12 and panel.more == 3
    assert panel.participants[0].slug == "chip-14"
    assert "and 3 more" in response.content.decode()
    assert "draft-chip" not in response.content.decode()


def test_a_participant_with_two_offerings_in_a_panel_appears_once(client, db):
    make_participant("twice", ("ai-chips",))
    sub = Segment.objects.create(
        slug="npu", tier="upstream", name_en="NPUs", parent=Segment.objects.get(slug="ai-chips")
    )
    Participant.objects.get(slug="twice").offerings.create(segment=sub, name="An NPU")
    panel = panels(client.get("/"))["ai-chips"]
    assert panel.count == 1 and [p.slug for p in panel.participants] == ["twice"]


def test_stats_strip_counts_tiers_segments_and_countries(client, small_chain):
    stats = client.get("/").context["map"]["stats"]
    assert [(r["label"], r["count"]) for r in stats["tiers"]] == [
        ("Upstream", 3),
        ("Midstream", 2),
        ("Downstream", 0),
    ]
    assert [(r["label"], r["count"], r["percent"]) for r in stats["countries"]] == [
        ("United States", 3, 100),
        ("China", 2, 67),
    ]
    assert ("AI chips", 2) in [(r["label"], r["count"]) for r in stats["segments"]]


@pytest.mark.parametrize("size", [5, 60])
def test_query_count_is_constant(client, db, django_assert_max_num_queries, size):
    make_chain(size)
    # segments, panel counts, the panels' first participants (one windowed query),
    # participants per tier, top countries, the total
    with django_assert_max_num_queries(6):
        response = client.get("/")
    assert sum(p.count for p in panels(response).values()) == 2 * size
