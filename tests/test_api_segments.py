"""GET /api/segments/: every segment with its published-participant count."""

import pytest

from directory.models import Participant, Segment, Tier
from tests.conftest import make_participant

pytestmark = pytest.mark.django_db


def test_lists_all_segments_with_fields_and_types(client, small_chain):
    response = client.get("/api/segments/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == Segment.objects.count() >= 10
    assert body["next"] is None and body["previous"] is None
    chips = next(s for s in body["results"] if s["slug"] == "ai-chips")
    assert chips == {
        "slug": "ai-chips",
        "tier": "upstream",
        "order": chips["order"],
        "name_en": "AI chips",
        "name_zh": "算力芯片",
        "description_en": chips["description_en"],
        "description_zh": chips["description_zh"],
        "parent": None,
        "participant_count": 2,
    }
    assert isinstance(chips["order"], int) and chips["description_en"]
    # Chain order: every upstream segment before every midstream one, and so on.
    tiers = [s["tier"] for s in body["results"]]
    assert tiers == sorted(tiers, key=[Tier.UPSTREAM, Tier.MIDSTREAM, Tier.DOWNSTREAM].index)


def test_count_is_what_the_segment_filter_finds(client, small_chain):
    """participant_count equals the count of /api/participants/?segment=<slug>: published
    participants only, each once, sub-segments included."""
    chips = Segment.objects.get(slug="ai-chips")
    Segment.objects.create(slug="hbm", tier="upstream", name_en="HBM", parent=chips, order=99)
    make_participant("sk-hynix", ("hbm",), name_en="SK hynix", country="KR")
    make_participant("both-chips", ("ai-chips", "hbm"))  # counted once
    make_participant("draft-chips", status="draft")
    make_participant("archived-chips", ("hbm",), status="archived")

    results = {s["slug"]: s for s in client.get("/api/segments/").json()["results"]}

    assert results["hbm"]["parent"] == "ai-chips"
    assert results["hbm"]["participant_count"] == 2
    assert results["ai-chips"]["participant_count"] == 4  # nvidia, cambricon, sk-hynix, both-chips
    assert results["foundation-models"]["participant_count"] == 2
    assert results["aigc-tools"]["participant_count"] == 0
    for slug in ("ai-chips", "hbm", "foundation-models", "aigc-tools"):
        listed = client.get("/api/participants/", {"segment": slug}).json()["count"]
        assert results[slug]["participant_count"] == listed


def test_constant_queries_whatever_the_data(client, small_chain, django_assert_num_queries):
    # the segments with their parents and the kinds of record, and the bitmap index that
    # counts their participants (participants, offerings, records; kept per process with
    # the counts cache on)
    with django_assert_num_queries(5):
        assert client.get("/api/segments/").status_code == 200
    for i in range(30):
        make_participant(f"extra-{i}", ("ai-chips", "aigc-tools"))
    with django_assert_num_queries(5):
        response = client.get("/api/segments/")
    counts = {s["slug"]: s["participant_count"] for s in response.json()["results"]}
    assert counts["ai-chips"] == 32 and counts["aigc-tools"] == 30
    assert Participant.objects.count() == 35


def test_malformed_page_size_is_a_400(client, small_chain):
    response = client.get("/api/segments/", {"page_size": "lots"})
    assert response.status_code == 400
    assert "page_size" in response.json()["errors"]


def test_the_api_index_links_every_endpoint_and_the_docs(client, small_chain, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/api/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "ETag" in response and "max-age" in response["Cache-Control"]
    index = response.json()
    assert index["endpoints"] == {
        "segment-list": "http://testserver/api/segments/",
        "participant-list": "http://testserver/api/participants/",
        "participant-detail": "http://testserver/api/participants/{slug}/",
        "participant-graph": "http://testserver/api/participants/{slug}/graph/",
        "relationship-list": "http://testserver/api/relationships/",
        "flow-list": "http://testserver/api/flows/",
        "record-list": "http://testserver/api/records/",
    }
    assert (
        index["schema"] == "http://testserver/api/schema/" and index["docs"] == "http://testserver/api/docs/"
    )
    for url in [*index["endpoints"].values(), index["schema"], index["docs"]]:
        assert client.get(url.replace("{slug}", "nvidia")).status_code == 200, url
    assert client.get("/api").status_code == 301


def test_every_page_links_the_api_docs_in_its_footer(client, small_chain):
    for url in ("/", "/participants/", "/participants/nvidia/", "/submit/"):
        footer = client.get(url).content.decode().split('<footer class="site-footer">')[1]
        assert '<a href="/api/docs/">API documentation</a>' in footer, url
