"""/segments/<slug>/: description, sub-segments, neighbours, trading partners, its listing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from directory import catalog
from directory.catalog import chain
from directory.models import Participant, Relationship, Segment
from tests.conftest import make_chain, make_participant, page_slugs

pytestmark = pytest.mark.django_db


def slugs(response):
    return page_slugs(response.context["listing"])


def test_segment_page_shows_description_neighbours_and_participants(client, small_chain):
    response = client.get("/segments/cloud-compute/")
    assert response.status_code == 200
    body = response.content.decode()
    segment = Segment.objects.get(slug="cloud-compute")
    assert "<h1>Cloud &amp; compute services" in body
    assert escape(segment.description_en[:40]) in body
    assert slugs(response) == ["azure"]
    # Neighbours: the tier before (none, this is upstream) and the midstream segments.
    assert [s.slug for s in response.context["upstream"]] == []
    assert [s.slug for s in response.context["downstream"]] == [
        "foundation-models",
        "training-tuning",
        "data-services",
    ]
    assert 'href="/segments/foundation-models/"' in body
    # NVIDIA supplies Azure (in this segment); Azure supplies OpenAI.
    assert [p.slug for p in response.context["suppliers"]] == ["nvidia"]
    assert [p.slug for p in response.context["customers"]] == ["openai"]
    assert "<title>Cloud &amp; compute services: vendors and service providers — chainsite</title>" in body


def test_midstream_segment_has_both_neighbours(client, small_chain):
    response = client.get("/segments/foundation-models/")
    assert [s.tier for s in response.context["upstream"]] == ["upstream"] * 3
    assert [s.tier for s in response.context["downstream"]] == ["downstream"] * 4
    assert [p.slug for p in response.context["suppliers"]] == ["azure"]


def test_sub_segments_are_listed_and_their_participants_included(client, small_chain):
    parent = Segment.objects.get(slug="ai-chips")
    child = Segment.objects.create(slug="hbm-memory", tier="upstream", name_en="HBM memory", parent=parent)
    make_participant("sk-hynix", ("hbm-memory",), name_en="SK hynix", country="KR")
    response = client.get("/segments/ai-chips/")
    assert [s.slug for s in response.context["children"]] == ["hbm-memory"]
    assert 'href="/segments/hbm-memory/"' in response.content.decode()
    assert set(slugs(response)) == {"nvidia", "cambricon", "sk-hynix"}
    child_page = client.get(child.get_absolute_url())
    assert slugs(child_page) == ["sk-hynix"]
    assert 'href="/segments/ai-chips/"' in child_page.content.decode()


def test_segment_listing_is_filterable(client, small_chain):
    response = client.get("/segments/ai-chips/?country=CN")
    assert slugs(response) == ["cambricon"]
    assert response.context["listing"].facets["country"][0].value == "CN"
    assert slugs(client.get("/segments/ai-chips/?q=寒武纪")) == ["cambricon"]
    assert slugs(client.get("/segments/foundation-models/?open_source=true")) == ["zhipu-ai"]


def test_unpublished_participants_and_their_links_are_hidden(client, small_chain):
    draft = make_participant("secret-cloud", ("cloud-compute",), status="draft")
    Relationship.objects.create(supplier=small_chain["nvidia"], customer=draft, kind="chips")
    Relationship.objects.create(supplier=draft, customer=small_chain["openai"], kind="compute")
    Participant.objects.filter(slug="nvidia").update(status="archived")
    response = client.get("/segments/cloud-compute/")
    assert slugs(response) == ["azure"]
    assert response.context["suppliers"] == []
    assert "secret-cloud" not in response.content.decode()


def partners(response):
    return [[(p.slug, p.links) for p in response.context[side]] for side in ("suppliers", "customers")]


@pytest.fixture
def chip_trade(small_chain):
    """AI chips with a sub-segment (HBM memory) and supply links in and out of both, some
    to or from unpublished participants, which never count."""
    chips = Segment.objects.get(slug="ai-chips")
    Segment.objects.create(slug="hbm-memory", tier="upstream", name_en="HBM memory", parent=chips)
    # In both segments: its links count once for AI chips.
    hynix = make_participant("sk-hynix", ("hbm-memory", "ai-chips"), name_en="SK hynix")
    tsmc = make_participant("tsmc", ("energy-power",), name_en="TSMC")
    axcelis = make_participant("axcelis", ("energy-power",), name_en="Axcelis")
    applied = make_participant("applied", ("energy-power",), name_en="Applied Materials")
    draft_fab = make_participant("draft-fab", ("energy-power",), status="draft")
    draft_chip = make_participant("draft-chip", ("ai-chips",), status="draft")
    nvidia, cambricon = small_chain["nvidia"], small_chain["cambricon"]
    links = [
        (tsmc, nvidia),
        (tsmc, cambricon),
        (tsmc, hynix),
        (axcelis, nvidia),
        (applied, cambricon),
        (draft_fab, nvidia),
        (hynix, small_chain["azure"]),
        (cambricon, small_chain["zhipu"]),
        (nvidia, draft_chip),
        (draft_chip, small_chain["openai"]),
    ]
    Relationship.objects.bulk_create(Relationship(supplier=a, customer=b, kind="chips") for a, b in links)


def test_trading_partners_most_links_first_then_by_name(client, chip_trade):
    # NVIDIA -> Azure comes from small_chain.
    assert partners(client.get("/segments/ai-chips/")) == [
        [("tsmc", 3), ("applied", 1), ("axcelis", 1)],
        [("azure", 2), ("zhipu-ai", 1)],
    ]


def test_trading_partners_of_a_sub_segment_are_its_own(client, chip_trade):
    assert partners(client.get("/segments/hbm-memory/")) == [[("tsmc", 1)], [("azure", 1)]]


def test_trading_partners_list_is_capped(client, small_chain):
    azure = small_chain["azure"]
    Relationship.objects.bulk_create(
        Relationship(
            supplier=make_participant(f"fab-{i:02d}", ("energy-power",)), customer=azure, kind="chips"
        )
        for i in range(chain.NEIGHBOUR_CAP + 2)
    )
    suppliers = client.get("/segments/cloud-compute/").context["suppliers"]
    # all have one link: the first by name, NVIDIA after the fabs
    assert [p.slug for p in suppliers] == [f"fab-{i:02d}" for i in range(chain.NEIGHBOUR_CAP)]


def test_query_count_does_not_grow_with_the_segment(client, db, django_assert_num_queries):
    def page_queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/segments/foundation-models/")
        assert response.context["suppliers"] and response.context["customers"]
        return len(captured)

    def partner_queries():
        segment = Segment.objects.get(slug="foundation-models")
        # the segments, the bitmap index (participants, offerings), the links, what the
        # page shows of the leaders; with the counts cache on, all but the last are kept
        # per process
        with django_assert_num_queries(5):
            catalog.trading_partners(segment)

    participants = make_chain(5)
    small = page_queries()
    partner_queries()
    more = [make_participant(f"more-{i:02d}", ("foundation-models", "ai-chips")) for i in range(60)]
    Relationship.objects.bulk_create(
        Relationship(supplier=a, customer=b, kind="model")
        for a, b in zip(more, participants + more[1:], strict=False)
    )
    assert page_queries() == small
    partner_queries()


def test_unknown_segment_is_404(client, db):
    assert client.get("/segments/no-such-segment/").status_code == 404


@pytest.mark.parametrize(
    "query", ["page=abc", "page=99999", "country=ZZ&kind=x", "q=%00", "q=%ff", "segment=zzz"]
)
def test_bad_values_never_error(client, small_chain, query):
    assert client.get(f"/segments/ai-chips/?{query}").status_code == 200


def test_htmx_request_gets_the_listing_fragment(client, small_chain):
    body = client.get("/segments/ai-chips/?country=US", headers={"HX-Request": "true"}).content.decode()
    assert body.lstrip().startswith('<form id="listing"') and "NVIDIA" in body and "Cambricon" not in body


@pytest.mark.parametrize("size", [5, 60])
def test_query_count_is_constant(client, db, django_assert_max_num_queries, size):
    make_chain(size)
    # segments, the bitmap index (2) for the listing and again for the trading partners
    # (2: with the counts cache off, as here, nothing is kept in memory), the link arrays,
    # the partners' names, the cards' participants (the page's ids and the cards'
    # segments come from the index)
    with django_assert_max_num_queries(9):
        response = client.get("/segments/foundation-models/?country=CN")
    assert response.status_code == 200
    assert response.context["suppliers"] and response.context["customers"]
