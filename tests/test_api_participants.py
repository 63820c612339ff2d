"""GET /api/participants/ and /api/participants/<slug>/: contract, filters shared with the
listing, published participants only, errors, constant queries."""

import datetime
import pickle
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.db import connection
from django.db.models import Q
from django.http import QueryDict
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request
from rest_framework.serializers import ModelSerializer
from rest_framework.test import APIRequestFactory

from directory import catalog
from directory.api.serializers import ParticipantDetailSerializer, ParticipantSerializer, public_participants
from directory.models import Participant, Relationship, Segment, Source, Tag
from tests.conftest import make_participant, page_slugs

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(small_chain):
    """small_chain plus tags, a parent, unpublished participants linked to published ones,
    and a sub-segment."""
    nvidia, azure, zhipu = small_chain["nvidia"], small_chain["azure"], small_chain["zhipu"]
    nvidia.tags.add(Tag.objects.create(slug="gpu", name="GPU"))
    nvidia.last_verified = datetime.date(2026, 1, 15)
    nvidia.founded = 1993
    nvidia.save()
    microsoft = make_participant("microsoft", ("cloud-compute",), name_en="Microsoft", founded=1975)
    azure.parent = microsoft
    azure.save()
    secret = make_participant("secret-lab", name_en="Secret Lab", country="CN", status="draft")
    old = make_participant("old-cloud", ("cloud-compute",), name_en="Old Cloud", status="archived")
    zhipu.parent = secret
    zhipu.save()
    Relationship.objects.create(supplier=nvidia, customer=secret, kind="chips")
    Relationship.objects.create(supplier=old, customer=azure, kind="energy")
    press = Source.objects.create(
        publisher="Azure", title="Press release", published="2024-05", url="https://example.com/press"
    )
    Relationship.objects.create(
        supplier=azure,
        customer=zhipu,
        kind="compute",
        since_year=2024,
        supplied_segment=Segment.objects.get(slug="cloud-compute"),
        customer_segment=Segment.objects.get(slug="foundation-models"),
        evidence="Press release",
    ).sources.add(press)
    chips = Segment.objects.get(slug="ai-chips")
    Segment.objects.create(slug="npu", tier="upstream", name_en="NPUs", parent=chips, order=98)
    make_participant("ascend", ("npu",), name_en="Ascend", name_zh="昇腾", country="CN", kind="both")
    make_participant("openmodel", ("foundation-models",), kind="open_source", open_source="yes", founded=2023)
    return {**small_chain, "microsoft": microsoft, "secret": secret, "old": old}


def slugs(response):
    assert response.status_code == 200, response.content
    return [p["slug"] for p in response.json()["results"]]


def test_list_contract(client, chain):
    response = client.get("/api/participants/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == Participant.objects.published().count() == 8
    nvidia = next(p for p in body["results"] if p["slug"] == "nvidia")
    assert nvidia == {
        "slug": "nvidia",
        "url": "http://testserver/api/participants/nvidia/",
        "name_en": "NVIDIA",
        "name_zh": "英伟达",
        "description_en": "nvidia description.",
        "description_zh": "",
        "website": "https://nvidia.example.com/",
        "country": "US",
        "founded": 1993,
        "kind": "vendor",
        "open_source": "no",
        "logo": None,
        "parent": None,
        "segments": ["ai-chips"],
        "tags": [{"slug": "gpu", "name": "GPU"}],
        "offerings": [{"segment": "ai-chips", "name": "NVIDIA offering", "description": "", "url": ""}],
        "last_verified": "2026-01-15",
        "created_at": nvidia["created_at"],
        "updated_at": nvidia["updated_at"],
    }
    for stamp in (nvidia["created_at"], nvidia["updated_at"]):
        assert datetime.datetime.fromisoformat(stamp).tzinfo is not None
    azure = next(p for p in body["results"] if p["slug"] == "azure")
    assert azure["parent"] == "microsoft"
    assert "suppliers" not in azure  # relationships are on the detail


def test_list_pagination_links(client, chain):
    for i in range(40):
        make_participant(f"zz-extra-{i:02}", ("aigc-tools",))
    first = client.get("/api/participants/", {"segment": "aigc-tools", "page_size": 20}).json()
    assert first["count"] == 40 and len(first["results"]) == 20 and first["previous"] is None
    next_url = urlsplit(first["next"])
    assert next_url.path == "/api/participants/"
    assert parse_qs(next_url.query) == {"segment": ["aigc-tools"], "page_size": ["20"], "page": ["2"]}

    second = client.get(first["next"]).json()
    assert second["next"] is None and len(second["results"]) == 20
    assert parse_qs(urlsplit(second["previous"]).query) == {"segment": ["aigc-tools"], "page_size": ["20"]}
    assert slugs(client.get("/api/participants/", {"segment": "aigc-tools", "page": 2})) == [
        p["slug"] for p in second["results"]
    ]
    everything = client.get("/api/participants/", {"page_size": 100}).json()
    assert everything["count"] == 48 and len(everything["results"]) == 48 and everything["next"] is None
    assert len(client.get("/api/participants/").json()["results"]) == 20  # the default page size


def test_empty_result_is_an_empty_first_page(client, chain):
    body = client.get("/api/participants/", {"q": "no-such-thing-anywhere"}).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


PARITY_PARAMS = [
    {},
    {"segment": "ai-chips"},
    {"segment": ["ai-chips", "foundation-models"]},
    {"segment": "cloud-compute", "ordering": "-founded"},
    {"tier": "upstream"},
    {"tier": "midstream", "open_source": "true"},
    {"country": "CN"},
    {"country": "cn", "segment": "ai-chips"},
    {"kind": "both"},
    {"kind": "open_source", "open_source": "yes"},
    {"open_source": "false"},
    {"open_source": "partly"},
    {"q": "nvidia"},
    {"q": "寒武纪"},
    {"q": "offering", "ordering": "-name"},
    {"q": "description", "tier": "upstream"},
    {"ordering": "name"},
    {"ordering": "founded"},
    {"ordering": "-updated"},
    {"q": "", "tier": "", "kind": "", "ordering": ""},
]


@pytest.mark.parametrize("params", PARITY_PARAMS, ids=lambda p: urlencode(p, doseq=True) or "none")
def test_same_participants_in_the_same_order_as_the_listing_filter(client, chain, params):
    """The API answers with exactly what the HTML listing shows for the same parameters,
    in the same order: both read the catalog's listing of the same criteria."""
    query = QueryDict(urlencode(params, doseq=True))
    page = client.get("/participants/", {**params, "page_size": 100})
    listed = [p.slug for p in page.context["listing"].participants]
    assert listed, "the parameters should find someone"
    assert slugs(client.get("/api/participants/", {**params, "page_size": 100})) == listed
    criteria = catalog.Criteria.parse(query)
    assert page.context["listing"].total == catalog.count(criteria) == len(listed)


def test_filters_find_what_they_say(client, chain):
    assert slugs(client.get("/api/participants/", {"segment": "ai-chips", "country": "CN"})) == [
        "ascend",
        "cambricon",
    ]
    # ascend is in the npu sub-segment of ai-chips; both chips segments are upstream.
    assert set(slugs(client.get("/api/participants/", {"tier": "upstream"}))) == {
        "ascend",
        "azure",
        "cambricon",
        "microsoft",
        "nvidia",
    }
    assert slugs(client.get("/api/participants/", {"open_source": "true"})) == ["openmodel", "zhipu-ai"]
    assert slugs(client.get("/api/participants/", {"q": "昇腾"})) == ["ascend"]
    cn_chips = client.get("/api/participants/", {"segment": "ai-chips", "country": "CN"}).json()["results"]
    assert [o["segment"] for o in cn_chips[0]["offerings"]] == ["npu"]


def test_unpublished_participants_never_appear(client, chain):
    listed = slugs(client.get("/api/participants/", {"page_size": 100}))
    assert "secret-lab" not in listed and "old-cloud" not in listed
    assert "secret-lab" not in slugs(client.get("/api/participants/", {"q": "secret"}))
    assert "secret-lab" not in slugs(
        client.get("/api/participants/", {"country": "CN", "segment": "ai-chips"})
    )
    for slug in ("secret-lab", "old-cloud"):
        response = client.get(f"/api/participants/{slug}/")
        assert response.status_code == 404
        assert response.json() == {"detail": f"No published participant has the slug “{slug}”."}
    nvidia = client.get("/api/participants/nvidia/").json()
    assert [c["participant"] for c in nvidia["customers"]] == ["azure"]  # not secret-lab
    azure = client.get("/api/participants/azure/").json()
    assert [s["participant"] for s in azure["suppliers"]] == ["nvidia"]  # not old-cloud
    zhipu = client.get("/api/participants/zhipu-ai/").json()
    assert zhipu["parent"] is None  # its parent is a draft
    list_zhipu = next(
        p for p in client.get("/api/participants/").json()["results"] if p["slug"] == "zhipu-ai"
    )
    assert list_zhipu["parent"] is None


def test_detail_contract(client, chain):
    response = client.get("/api/participants/azure/")
    assert response.status_code == 200
    azure = response.json()
    assert set(azure) == {
        "slug",
        "url",
        "name_en",
        "name_zh",
        "description_en",
        "description_zh",
        "website",
        "country",
        "founded",
        "kind",
        "open_source",
        "logo",
        "parent",
        "segments",
        "tags",
        "offerings",
        "last_verified",
        "created_at",
        "updated_at",
        "suppliers",
        "customers",
        "records",
    }
    assert azure["url"] == "http://testserver/api/participants/azure/"
    assert azure["name_en"] == "Microsoft Azure" and azure["parent"] == "microsoft"
    assert azure["segments"] == ["cloud-compute"]
    link = {"is_supply": True, "status": "active", "until": "", "evidence_zh": "", "sources": []}
    assert azure["suppliers"] == [
        {
            **link,
            "participant": "nvidia",
            "name_en": "NVIDIA",
            "name_zh": "英伟达",
            "kind": "chips",
            "since": "",
            "supplied_segment": "ai-chips",
            "customer_segment": "cloud-compute",
            "evidence": "",
        }
    ]
    assert azure["customers"] == [
        {
            **link,
            "participant": "openai",
            "name_en": "OpenAI",
            "name_zh": "",
            "kind": "compute",
            "since": "",
            "supplied_segment": "cloud-compute",
            "customer_segment": "foundation-models",
            "evidence": "",
        },
        {
            **link,
            "participant": "zhipu-ai",
            "name_en": "Zhipu AI",
            "name_zh": "智谱",
            "kind": "compute",
            "since": "2024",
            "supplied_segment": "cloud-compute",
            "customer_segment": "foundation-models",
            "evidence": "Press release",
            "sources": [
                {
                    "publisher": "Azure",
                    "title": "Press release",
                    "published": "2024-05",
                    "url": "https://example.com/press",
                    "checked": None,
                }
            ],
        },
    ]


def test_unknown_slugs_and_paths_are_json_404s(client, chain):
    for path in (
        "/api/participants/no-such-company/",
        "/api/participants/not%20a%20slug/",
        "/api/participants/a%2Fb/",
        "/api/participants/%00/",
        "/api/nothing-here/",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json", path
        assert response.json()["detail"], path


@pytest.mark.parametrize(
    ("params", "parameter", "message"),
    [
        ({"page_size": "abc"}, "page_size", "Must be a whole number from 20 to 100."),
        ({"page_size": "19"}, "page_size", "Must be a whole number from 20 to 100."),
        ({"page_size": "101"}, "page_size", "Must be a whole number from 20 to 100."),
        ({"page_size": "1e3"}, "page_size", "Must be a whole number from 20 to 100."),
        ({"page_size": ""}, "page_size", "Must be a whole number from 20 to 100."),
        ({"page_size": " 30"}, "page_size", "Must be a whole number from 20 to 100."),
        ({"page": "abc"}, "page", "Must be a whole number from 1."),
        ({"page": "0"}, "page", "Must be a whole number from 1."),
        ({"page": "-1"}, "page", "Must be a whole number from 1."),
        ({"page": "1.0"}, "page", "Must be a whole number from 1."),
        ({"open_source": "maybe"}, "open_source", "maybe is not one of the available choices"),
        ({"country": "ZZ"}, "country", "ZZ is not one of the available choices"),
        ({"country": "China"}, "country", "CHINA is not one of the available choices"),
        ({"segment": "nope"}, "segment", "nope is not one of the available choices"),
        ({"segment": ["ai-chips", "nope"]}, "segment", "nope is not one of the available choices"),
        ({"tier": "top"}, "tier", "top is not one of the available choices"),
        ({"kind": "company"}, "kind", "company is not one of the available choices"),
        ({"ordering": "price"}, "ordering", "price is not one of the available choices"),
        ({"q": "x" * 201}, "q", "at most 200 characters"),
        ({"q": "nul\x00byte"}, "q", "Null characters are not allowed."),
    ],
)
def test_malformed_parameters_are_a_400_naming_the_parameter(client, chain, params, parameter, message):
    response = client.get("/api/participants/", params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert list(body["errors"]) == [parameter]
    assert message in body["errors"][parameter][0]
    assert body["detail"].startswith(f"Invalid parameters. {parameter}: ")
    assert message in body["detail"]
    assert "Cache-Control" not in response


def test_a_page_past_the_end_is_a_404(client, chain):
    response = client.get("/api/participants/", {"page": 2})
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no page 2."}
    assert client.get("/api/participants/", {"page": 10**30}).status_code == 404


def test_unknown_parameters_are_ignored(client, chain):
    assert slugs(client.get("/api/participants/", {"format": "xml", "colour": "red"})) == slugs(
        client.get("/api/participants/")
    )


def test_only_get_head_and_options(client, chain):
    response = client.post("/api/participants/", {"name_en": "X"})
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "POST" not allowed.'}
    assert client.delete("/api/participants/nvidia/").status_code == 405
    assert Participant.objects.filter(slug="nvidia").exists()
    assert client.head("/api/participants/nvidia/").status_code == 200


def _grow(n):
    """n more published participants, each with two offerings, two tags, a parent and
    supply links both ways, so every prefetched relation has rows."""
    gpu, rag = (
        Tag.objects.get_or_create(slug="gpu", name="GPU")[0],
        Tag.objects.create(slug="rag", name="RAG"),
    )
    hub = Participant.objects.get(slug="microsoft")
    for i in range(n):
        p = make_participant(f"grown-{i:02}", ("ai-chips", "knowledge-base"), parent=hub)
        p.tags.add(gpu, rag)
        Relationship.objects.create(supplier=p, customer=hub, kind="chips")
        Relationship.objects.create(supplier=hub, customer=p, kind="software")


def test_list_queries_do_not_grow_with_the_data(client, chain, django_assert_num_queries):
    # With a search: 2 segments and kinds of record (what the filters refer to), 1 search window (its size is
    # the count), 1 page of participants joined to their parents, 1 offerings with their
    # segments, 1 tags.
    with django_assert_num_queries(6):
        response = client.get("/api/participants/", {"q": "offering", "segment": "ai-chips"})
    assert response.json()["count"] == 3
    _grow(30)
    with django_assert_num_queries(6):
        response = client.get(
            "/api/participants/", {"q": "offering", "segment": "ai-chips", "page_size": 100}
        )
    assert response.json()["count"] == 33
    # Without: the count comes from the bitmap index (3 queries when it is built, as here
    # with the counts cache off; none once it is cached), no COUNT.
    in_ai_chips = (  # sub-segments included, as the filter does
        Participant.objects.published()
        .filter(Q(offerings__segment__slug="ai-chips") | Q(offerings__segment__parent__slug="ai-chips"))
        .distinct()
        .count()
    )
    with django_assert_num_queries(8):
        response = client.get("/api/participants/", {"segment": "ai-chips"})
    assert response.json()["count"] == in_ai_chips and len(response.json()["results"]) == 20
    with override_settings(COUNT_CACHE_SECONDS=3600):
        client.get("/api/participants/")
        # The page joined to parents, its offerings, its tags: the count comes from the
        # kept index and the segments are kept in memory.
        with django_assert_num_queries(3):
            response = client.get("/api/participants/", {"segment": "ai-chips", "page": 2})
    assert response.json()["count"] == in_ai_chips and len(response.json()["results"]) == in_ai_chips - 20


def test_detail_queries_do_not_grow_with_the_data(
    client, chain, django_assert_num_queries, django_assert_max_num_queries
):
    # 1 participant joined to its parent, 1 offerings with segments, 1 tags, 1 published
    # suppliers (links with both sides and segments), their sources, 1 published
    # customers, their sources, 1 records with their kinds, their sources (no sources
    # are read when there are no links or records).
    with django_assert_max_num_queries(9):
        assert client.get("/api/participants/microsoft/").status_code == 200
    _grow(30)
    with django_assert_max_num_queries(9):
        microsoft = client.get("/api/participants/microsoft/").json()
    assert len(microsoft["suppliers"]) == 30 and len(microsoft["customers"]) == 30


@pytest.mark.parametrize("params", PARITY_PARAMS, ids=lambda p: urlencode(p, doseq=True) or "none")
def test_same_result_set_as_the_html_listing_page(client, chain, params):
    """The HTML listing and the API, asked the same question, give the same participants
    in the same order (one FilterSet and one search function serve both)."""
    html = client.get("/participants/", {**params, "page_size": 100})
    assert html.status_code == 200
    listed = page_slugs(html.context["listing"])
    assert slugs(client.get("/api/participants/", {**params, "page_size": 100})) == listed


def test_a_page_seen_before_costs_no_query_and_urls_follow_the_host(client, chain, django_assert_num_queries):
    with override_settings(COUNT_CACHE_SECONDS=3600, ALLOWED_HOSTS=["testserver", "example.org"]):
        first = client.get("/api/participants/", {"segment": "ai-chips"})
        # the count and the ids from the kept index, each participant's JSON from the cache
        with django_assert_num_queries(0):
            again = client.get("/api/participants/", {"segment": "ai-chips", "page_size": 20})
        assert again.json() == first.json() and first.json()["count"] > 0
        other = client.get("/api/participants/", {"segment": "ai-chips"}, HTTP_HOST="example.org").json()
    assert other["results"][0]["url"].startswith("http://example.org/api/participants/")
    assert first.json()["results"][0]["url"].startswith("http://testserver/api/participants/")
    assert [r["slug"] for r in other["results"]] == [r["slug"] for r in first.json()["results"]]


def test_cached_json_holds_plain_values_only(client, chain):
    """What the list caches per participant is plain JSON data: DRF's ``Hyperlink`` for
    ``url`` would drag the participant instance (and its offerings and tags) into every
    cached copy, pickled on each write and unpickled on each read."""
    with override_settings(COUNT_CACHE_SECONDS=3600):
        first = client.get("/api/participants/", {"segment": "ai-chips"})
        with CaptureQueriesContext(connection) as again:
            second = client.get("/api/participants/", {"segment": "ai-chips"})
    assert second.json() == first.json() and first.json()["results"]
    # The second time every participant's JSON came from the cache: not one participant,
    # offering or tag was read.
    assert not [q for q in again.captured_queries if "directory_offering" in q["sql"]]
    for item in first.data["results"]:  # what was cached, as the view made it
        assert type(item["url"]) is str
        assert b"django.db.models" not in pickle.dumps(item)


def test_fields_built_once_serialise_as_drf_builds_them(chain):
    """Serializer fields are built from the model once per class and copied for each
    serializer: the JSON is what DRF's own field building gives, and no two serializers
    share a field (DRF binds each field to its serializer)."""

    class Rebuilt(ParticipantDetailSerializer):
        def get_fields(self):
            return ModelSerializer.get_fields(self)

    participants = list(public_participants(relationships=True))
    request = Request(APIRequestFactory().get("/api/participants/"))
    context = {"request": request}
    assert participants
    assert (
        ParticipantDetailSerializer(participants, many=True, context=context).data
        == Rebuilt(participants, many=True, context=context).data
    )
    first, second = ParticipantSerializer(context=context), ParticipantSerializer(context=context)
    assert first.fields["slug"] is not second.fields["slug"]
    assert first.fields["slug"].parent is first and second.fields["offerings"].parent is second
