"""/segments/<slug>/: description, sub-segments, canonical neighbours, suppliers into it and
customers of it (active supply links by segment), concentration, its listing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from directory import catalog
from directory.catalog.flows import LEADERS
from directory.models import Offering, Participant, Segment
from tests.conftest import make_chain, make_link, make_participant, page_slugs

pytestmark = pytest.mark.django_db


def slugs(response):
    return page_slugs(response.context["listing"])


def _chain(response):
    return response.context["chain"]


def test_segment_page_shows_description_neighbours_and_participants(client, small_chain):
    response = client.get("/segments/cloud-compute/")
    assert response.status_code == 200
    body = response.content.decode()
    segment = Segment.objects.get(slug="cloud-compute")
    assert "<h1>Cloud &amp; compute services" in body
    assert escape(segment.description_en[:40]) in body
    assert slugs(response) == ["azure"]
    # The canonical flow: power and chips feed the clouds; the clouds feed models onwards.
    chain_ = _chain(response)
    assert [s.slug for s in chain_.upstream] == ["energy-power", "ai-chips"]
    assert [s.slug for s in chain_.downstream][:3] == [
        "foundation-models",
        "training-tuning",
        "data-services",
    ]
    assert 'href="/segments/foundation-models/"' in body
    # NVIDIA supplies chips into cloud (Azure); Azure supplies compute out of it (OpenAI).
    assert [(p.slug, p.links) for p in chain_.suppliers] == [("nvidia", 1)]
    assert [(p.slug, p.links) for p in chain_.customers] == [("openai", 1)]
    assert "1 link" in body
    assert "<title>Cloud &amp; compute services: vendors and service providers — chainsite</title>" in body


def test_energy_feeds_chips_and_cloud(client, small_chain):
    chain_ = _chain(client.get("/segments/energy-power/"))
    assert chain_.upstream == []
    assert [s.slug for s in chain_.downstream] == ["cloud-compute", "ai-chips"]


def test_only_active_supply_into_the_segment_counts(client, small_chain):
    """A link counts for the segment its customer uses it in, not for every segment the
    customer is in; planned, ended and ties (investments, partnerships) never count."""
    nvidia, openai, azure = small_chain["nvidia"], small_chain["openai"], small_chain["azure"]
    Offering.objects.create(participant=openai, segment=Segment.objects.get(slug="ai-chips"), name="Own chip")
    make_link(nvidia, openai, "chips", received="foundation-models")
    make_link(azure, openai, "investment", received="foundation-models")
    make_link(small_chain["cambricon"], azure, "chips", status="planned", since_year=2030)
    make_link(small_chain["zhipu"], azure, "model", status="ended", since_year=2022, until_year=2024)
    chips = _chain(client.get("/segments/ai-chips/"))
    assert chips.suppliers == []  # OpenAI's own chip offering does not make NVIDIA a supplier into chips
    models = _chain(client.get("/segments/foundation-models/"))
    assert [(p.slug, p.links) for p in models.suppliers] == [("azure", 1), ("nvidia", 1)]
    cloud = _chain(client.get("/segments/cloud-compute/"))
    assert [(p.slug, p.links) for p in cloud.suppliers] == [("nvidia", 1)]


def test_links_against_the_flow_are_marked(client, small_chain):
    # A model maker supplying into cloud runs against the chain's usual direction.
    make_link(small_chain["openai"], small_chain["azure"], "model")
    response = client.get("/segments/cloud-compute/")
    suppliers = {p.slug: (p.links, p.against) for p in _chain(response).suppliers}
    assert suppliers == {"nvidia": (1, 0), "openai": (1, 1)}
    assert "1 against the flow" in response.content.decode()


def test_concentration_by_hand(client, small_chain):
    """Four links into cloud from three suppliers: NVIDIA 2, Cambricon 1, OpenAI 1 (one
    link already exists from NVIDIA). Shares 1/2, 1/4, 1/4: HHI = 2500 + 625 + 625."""
    azure = small_chain["azure"]
    other = make_participant("other-cloud", ("cloud-compute",), name_en="Other Cloud")
    make_link(small_chain["nvidia"], other, "chips")
    make_link(small_chain["cambricon"], azure, "chips")
    make_link(small_chain["zhipu"], azure, "model")
    response = client.get("/segments/cloud-compute/")
    concentration = _chain(response).concentration
    assert (concentration.suppliers, concentration.links, concentration.hhi) == (3, 4, 3750)
    assert concentration.top_share == 0.5 and concentration.level == "high"
    body = response.content.decode()
    assert "3750" in body and "50%" in body and "highly concentrated" in body


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
    make_link(small_chain["nvidia"], draft, "chips")
    make_link(draft, small_chain["openai"], "compute")
    Participant.objects.filter(slug="nvidia").update(status="archived")
    response = client.get("/segments/cloud-compute/")
    assert slugs(response) == ["azure"]
    assert _chain(response).suppliers == []
    assert "secret-cloud" not in response.content.decode()


def partners(response):
    chain_ = _chain(response)
    return [[(p.slug, p.links) for p in side] for side in (chain_.suppliers, chain_.customers)]


@pytest.fixture
def chip_trade(small_chain):
    """AI chips with a sub-segment (HBM memory) and supply links into and out of both,
    some to or from unpublished participants, which never count."""
    chips = Segment.objects.get(slug="ai-chips")
    Segment.objects.create(slug="hbm-memory", tier="upstream", name_en="HBM memory", parent=chips)
    hynix = make_participant("sk-hynix", ("hbm-memory",), name_en="SK hynix")
    tsmc = make_participant("tsmc", ("ai-chips",), name_en="TSMC")
    axcelis = make_participant("axcelis", ("ai-chips",), name_en="Axcelis")
    applied = make_participant("applied", ("ai-chips",), name_en="Applied Materials")
    draft_fab = make_participant("draft-fab", ("ai-chips",), status="draft")
    draft_chip = make_participant("draft-chip", ("ai-chips",), status="draft")
    nvidia, cambricon = small_chain["nvidia"], small_chain["cambricon"]
    for supplier, customer in [
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
    ]:
        make_link(supplier, customer, "chips")


def test_suppliers_and_customers_most_links_first_then_by_name(client, chip_trade):
    # NVIDIA -> Azure comes from small_chain; SK hynix supplies out of HBM, a sub-segment
    # of AI chips, so its link counts for AI chips too. Ties by name: Cambricon,
    # Microsoft Azure, NVIDIA.
    assert partners(client.get("/segments/ai-chips/")) == [
        [("tsmc", 3), ("applied", 1), ("axcelis", 1)],
        [("cambricon", 2), ("azure", 2), ("nvidia", 2), ("sk-hynix", 1), ("zhipu-ai", 1)],
    ]


def test_a_sub_segment_counts_its_own_links(client, chip_trade):
    assert partners(client.get("/segments/hbm-memory/")) == [[("tsmc", 1)], [("azure", 1)]]


def test_the_lists_are_capped(client, small_chain):
    azure = small_chain["azure"]
    for i in range(LEADERS + 2):
        make_link(make_participant(f"fab-{i:02d}", ("ai-chips",)), azure, "chips")
    suppliers = _chain(client.get("/segments/cloud-compute/")).suppliers
    # NVIDIA has one link as each fab does: all by name, "Fab ..." before "NVIDIA"
    assert [p.slug for p in suppliers] == [f"fab-{i:02d}" for i in range(LEADERS)]


def test_query_count_does_not_grow_with_the_segment(client, db, django_assert_num_queries):
    def page_queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/segments/foundation-models/")
        assert _chain(response).suppliers and _chain(response).customers
        return len(captured)

    def chain_queries():
        segment = Segment.objects.get(slug="foundation-models")
        # the segments and kinds of record, the bitmap index (participants, offerings,
        # records), the links, the names of those shown; with the counts cache on, all but
        # the last are kept per process
        with django_assert_num_queries(7):
            catalog.segment_chain(segment)

    participants = make_chain(5)
    small = page_queries()
    chain_queries()
    more = [make_participant(f"more-{i:02d}", ("foundation-models", "ai-chips")) for i in range(60)]
    for a, b in zip(more, participants + more[1:], strict=False):
        make_link(a, b, "model", supplied="foundation-models", received="foundation-models")
    assert page_queries() == small
    chain_queries()


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
    # segments and kinds of record, the bitmap index (3; built once a request with the counts cache off, as
    # here), the links for the chain index, the names of the suppliers and customers
    # shown, the cards' participants (the page's ids and the cards' segments come from
    # the index)
    with django_assert_max_num_queries(10):
        response = client.get("/segments/foundation-models/?country=CN")
    assert response.status_code == 200
    assert _chain(response).suppliers and _chain(response).customers
