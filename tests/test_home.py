"""/: the chain map with its panels and the stats strip."""

import random
from collections import Counter

import pytest
from django.db.models import Q

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
def test_query_count_is_constant(client, db, django_assert_num_queries, size):
    make_chain(size)
    # the bitmap index (3: participants, offerings, records; built per request with the
    # counts cache off, as here), the segments and kinds of record, the chips of the
    # panels' first participants
    with django_assert_num_queries(6):
        response = client.get("/")
    assert sum(p.count for p in panels(response).values()) == 2 * size


def test_panels_and_stats_match_the_offerings_counted_one_by_one(client, db):
    """The map comes from the bitmap index; here it is checked against the published
    offerings themselves, with sub-segments, drafts, featured participants and more
    participants in a panel than it shows."""
    rng = random.Random(7)
    npu = Segment.objects.create(
        slug="npu", tier="upstream", name_en="NPUs", parent=Segment.objects.get(slug="ai-chips")
    )
    top = [s.slug for s in Segment.objects.filter(parent=None)]
    for i in range(60):
        chosen = rng.sample([*top, "npu", "npu"], rng.randint(1, 3))
        participant = make_participant(
            f"p-{i:02d}",
            tuple(dict.fromkeys(c for c in chosen if c != "npu")),
            name_en=rng.choice(["Alpha", "Beta", "Gamma", "Delta"]) + f" {rng.randint(0, 99)}",
            featured=rng.random() < 0.2,
            country=rng.choice(["US", "CN", "DE", "FR", ""]),
            status=rng.choice(["published"] * 5 + ["draft"]),
        )
        if "npu" in chosen:
            participant.offerings.create(segment=npu, name="An NPU")
    published = Participant.objects.published()
    response = client.get("/")
    for slug, panel in panels(response).items():
        members = published.filter(
            offerings__segment__in=Segment.objects.filter(Q(slug=slug) | Q(parent__slug=slug))
        )
        expected = sorted(set(members), key=lambda p: (not p.featured, p.name_en, p.pk))
        assert panel.count == len(expected), slug
        assert [p.slug for p in panel.participants] == [p.slug for p in expected[:12]], slug
    stats = response.context["map"]["stats"]
    for row, tier in zip(stats["tiers"], ["upstream", "midstream", "downstream"], strict=True):
        assert row["count"] == published.filter(offerings__segment__tier=tier).distinct().count(), tier
    countries = Counter(published.exclude(country="").values_list("country", flat=True))
    expected = sorted(countries.items(), key=lambda item: (-item[1], item[0]))
    assert [r["count"] for r in stats["countries"]] == [n for _, n in expected]
    assert response.context["total"] == published.count()
