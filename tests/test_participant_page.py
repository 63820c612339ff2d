"""/participants/<slug>/: everything public about one participant."""

import json
import re

import pytest
from django.test import override_settings

from directory.models import Offering, Participant, Relationship, Segment, Source, Tag
from tests.conftest import make_chain, make_participant

pytestmark = pytest.mark.django_db


@pytest.fixture
def azure(small_chain):
    """Azure with a parent, a published and a draft subsidiary, a tag, evidence on its
    supply links, and a second offering in another segment."""
    azure = small_chain["azure"]
    microsoft = make_participant("microsoft", ("aigc-tools",), name_en="Microsoft", country="US")
    Participant.objects.filter(pk=azure.pk).update(
        parent=microsoft, founded=2010, description_zh="微软的云计算平台。", last_verified="2025-01-31"
    )
    make_participant("azure-ml", ("training-tuning",), name_en="Azure ML", parent=azure)
    make_participant(
        "azure-secret", ("training-tuning",), name_en="Azure Secret", parent=azure, status="draft"
    )
    azure.tags.add(Tag.objects.create(slug="gpu-cloud", name="gpu cloud"))
    Offering.objects.create(
        participant=azure, segment=Segment.objects.get(slug="training-tuning"), name="Azure AI Foundry"
    )
    Relationship.objects.filter(supplier=small_chain["nvidia"], customer=azure).update(
        evidence="ND H100 v5 virtual machines.", evidence_zh="ND H100 v5 虚拟机。", since_year=2023
    )
    Relationship.objects.get(supplier=small_chain["nvidia"], customer=azure).sources.add(
        Source.objects.create(
            publisher="Microsoft",
            title="ND H100 v5 announcement",
            published="2023-03",
            url="https://example.com/nd-h100",
        )
    )
    draft = make_participant("draft-lab", ("foundation-models",), status="draft")
    Relationship.objects.create(supplier=azure, customer=draft, kind="compute")
    return Participant.objects.get(pk=azure.pk)


def test_page_shows_the_participant(client, azure):
    response = client.get("/participants/azure/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<title>Microsoft Azure — Cloud &amp; compute services — chainsite</title>" in body
    assert '<meta name="description" content="azure description.">' in body
    for text in (
        "Microsoft Azure",
        "azure.example.com",
        "United States",
        "2010",
        "Vendor",
        "Closed source",
        "gpu cloud",
        "2025-01-31",
    ):
        assert text in body, text


def test_offerings_are_grouped_by_segment(client, azure):
    groups = client.get("/participants/azure/").context["profile"].offering_groups
    assert [(s.slug, [o.name for o in offerings]) for s, offerings in groups] == [
        ("cloud-compute", ["Microsoft Azure offering"]),
        ("training-tuning", ["Azure AI Foundry"]),
    ]


def test_suppliers_and_customers_with_kind_and_evidence(client, azure):
    response = client.get("/participants/azure/")
    body = response.content.decode()
    assert [(r.supplier.slug, r.kind) for r in response.context["profile"].suppliers] == [("nvidia", "chips")]
    # The draft customer is not public.
    customers = response.context["profile"].customers
    assert [(r.customer.slug, r.kind) for r in customers] == [("openai", "compute")]
    assert '<span class="rel-kind">supplies chips to</span> <strong>Microsoft Azure</strong>' in body
    assert '<strong>Microsoft Azure</strong> <span class="rel-kind">supplies compute to</span>' in body
    assert "since 2023" in body and "Microsoft, <a" in body and "ND H100 v5 announcement" in body
    assert "ND H100 v5 virtual machines." in body and 'href="https://example.com/nd-h100"' in body
    assert "draft-lab" not in body
    chinese = client.get("/participants/azure/", headers={"accept-language": "zh-CN"}).content.decode()
    assert '<span class="rel-kind">供应芯片给</span>' in chinese and "ND H100 v5 虚拟机。" in chinese


def test_parent_subsidiaries_and_similar(client, azure, small_chain):
    make_participant("coreweave", ("cloud-compute", "training-tuning"), name_en="CoreWeave")
    make_participant("lambda", ("cloud-compute",), name_en="Lambda")
    make_participant("batch", ("aigc-tools",), name_en="Azure Batch", parent=small_chain["azure"])
    response = client.get("/participants/azure/")
    body = response.content.decode()
    assert 'Part of <a href="/participants/microsoft/">Microsoft</a>' in body
    # published subsidiaries only, in name order
    assert [p.slug for p in response.context["profile"].subsidiaries] == ["batch", "azure-ml"]
    assert (
        'Subsidiaries: <a href="/participants/batch/">Azure Batch</a>, '
        '<a href="/participants/azure-ml/">Azure ML</a></p>'
    ) in body
    assert "Azure Secret" not in body
    # CoreWeave shares both segments, so it comes first.
    assert [p.slug for p in response.context["profile"].similar][:2] == ["coreweave", "azure-ml"]


def test_suggest_a_correction_link(client, azure):
    assert 'href="/participants/azure/suggest/"' in client.get("/participants/azure/").content.decode()


def test_json_ld_and_open_graph(client, azure):
    body = client.get("/participants/azure/").content.decode()
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S).group(1))
    assert data["@type"] == "Organization"
    assert data["name"] == "Microsoft Azure"
    assert data["url"] == "http://testserver/participants/azure/"
    assert data["sameAs"] == "https://azure.example.com/"
    assert data["foundingDate"] == "2010"
    assert data["address"]["addressCountry"] == "US"
    assert data["parentOrganization"]["name"] == "Microsoft"
    assert '<meta property="og:title" content="Microsoft Azure">' in body
    assert '<meta property="og:url" content="http://testserver/participants/azure/">' in body


def test_json_ld_cannot_break_out_of_its_script(client, db):
    make_participant("evil", name_en="Evil </script><script>alert(1)</script>")
    body = client.get("/participants/evil/").content.decode()
    assert "</script><script>alert(1)" not in body
    json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S).group(1))


def test_chinese_page_shows_chinese_text_with_fallback(client, azure):
    body = client.get("/participants/azure/", headers={"accept-language": "zh-hans"}).content.decode()
    assert '<html lang="zh-hans">' in body
    assert "微软的云计算平台。" in body
    # No Chinese name: the English one stands in.
    assert "<h1>Microsoft Azure" in body
    assert "云计算与算力服务" in body and "美国" in body


@pytest.mark.parametrize("slug", ["no-such-participant", "draft-lab", "azure-secret", "%E2%80%8B"])
def test_unknown_or_unpublished_is_404(client, azure, slug):
    assert client.get(f"/participants/{slug}/").status_code == 404


def test_archived_is_404(client, azure):
    Participant.objects.filter(slug="azure").update(status="archived")
    assert client.get("/participants/azure/").status_code == 404


def similar(client, slug):
    return [p.slug for p in client.get(f"/participants/{slug}/").context["profile"].similar]


def test_similar_shares_most_segments_then_featured_then_name(client, db):
    make_participant("me", ("cloud-compute", "training-tuning"))
    make_participant("both-b", ("training-tuning", "cloud-compute"))
    make_participant("both-a", ("cloud-compute", "training-tuning"))
    make_participant("one-plain", ("cloud-compute",))
    make_participant("one-featured", ("training-tuning",), featured=True)
    make_participant("elsewhere", ("ai-chips",))
    make_participant("draft-twin", ("cloud-compute", "training-tuning"), status="draft")
    make_participant("archived-twin", ("cloud-compute", "training-tuning"), status="archived")
    assert similar(client, "me") == ["both-a", "both-b", "one-featured", "one-plain"]


def test_similar_in_a_sub_segment_finds_the_parent_segment_next(client, db):
    chips = Segment.objects.get(slug="ai-chips")
    Segment.objects.create(slug="hbm-memory", tier="upstream", name_en="HBM memory", parent=chips)
    make_participant("sk-hynix", ("hbm-memory",))
    make_participant("micron", ("hbm-memory",))
    make_participant("amd", ("ai-chips",))
    make_participant("draft-chips", ("ai-chips",), status="draft")
    make_participant("azure", ("cloud-compute",))
    assert similar(client, "sk-hynix") == ["micron", "amd"]


def test_similar_ranks_everyone_not_only_the_first_listed(client, db):
    """Every participant is a candidate, however many share the segment: the featured one
    listed last comes first (its page used to rank only the first 50 of each segment)."""
    make_participant("me", ("cloud-compute",))
    for i in range(55):
        make_participant(f"early-{i:02d}", ("cloud-compute",))
    make_participant("late-featured", ("cloud-compute",), featured=True)
    assert similar(client, "me") == ["late-featured", *(f"early-{i:02d}" for i in range(5))]


def test_participant_without_offerings_has_no_similar(client, db):
    make_participant("loner", ())
    make_participant("other", ("ai-chips",))
    assert similar(client, "loner") == []


@pytest.mark.parametrize("size", [5, 60])
def test_query_count_is_constant(client, db, django_assert_num_queries, size):
    participants = make_chain(size)
    middle = participants[size // 2 + 1]  # shares a segment with the one three before it
    Relationship.objects.bulk_create(
        Relationship(supplier=p, customer=middle, kind="data") for p in participants if p != middle
    )
    with override_settings(COUNT_CACHE_SECONDS=3600):
        client.get("/participants/")  # builds the bitmap index, kept for the generation
        # participant with parent, tags, offerings with segments; its links (both sides,
        # segments) and their sources; the dependencies one and two steps up and down
        # (four) and their names; its records (none here: no query for their sources);
        # subsidiaries, similar participants and alternatives (ranked by the in-memory
        # indexes; one query for their names)
        with django_assert_num_queries(12):
            response = client.get(middle.get_absolute_url())
    assert response.status_code == 200
    # everyone else sends data, and the one before it in the chain also software
    assert len(response.context["profile"].suppliers) == size
    assert len(response.context["profile"].similar) == {5: 1, 60: 6}[size]


def test_suppliers_and_customers_are_each_ordered_by_kind_then_the_other_sides_name(client, db):
    hub = make_participant("hub", ("cloud-compute",), name_en="Middle Hub")
    for slug, name, kind, status in [
        ("zeta", "Zeta Chips", "chips", "published"),
        ("alpha", "Alpha Data", "data", "published"),
        ("beta", "Beta Chips", "chips", "published"),
        ("hidden", "Aaa Hidden", "chips", "draft"),
    ]:
        Relationship.objects.create(
            supplier=make_participant(slug, name_en=name, status=status), customer=hub, kind=kind
        )
    for slug, name, kind in [
        ("yak", "Yak Labs", "compute"),
        ("ant", "Ant Apps", "software"),
        ("xen", "Xen AI", "compute"),
    ]:
        Relationship.objects.create(supplier=hub, customer=make_participant(slug, name_en=name), kind=kind)

    response = client.get("/participants/hub/")

    assert [(r.supplier.slug, r.kind) for r in response.context["profile"].suppliers] == [
        ("beta", "chips"),
        ("zeta", "chips"),
        ("alpha", "data"),
    ]
    assert [(r.customer.slug, r.kind) for r in response.context["profile"].customers] == [
        ("xen", "compute"),
        ("yak", "compute"),
        ("ant", "software"),
    ]
    body = response.content.decode()
    assert (
        body.index("Beta Chips") < body.index("Zeta Chips") < body.index("Alpha Data") < body.index("Xen AI")
    )
    assert "Aaa Hidden" not in body
