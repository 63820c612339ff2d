"""The chain in the JSON API: /api/relationships/ (filters, 400s, pages), /api/flows/ (the
numbers of /chain/flows/), /api/participants/<slug>/graph/ (levels and edges), each in the
OpenAPI description and each in a constant number of queries."""

import pytest
from django.test import override_settings

from directory.models import Relationship, Segment, Source
from tests.conftest import make_link, make_participant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_throttle():
    with override_settings(API_THROTTLE_RATE=None):
        yield


def keys(response):
    assert response.status_code == 200, response.content
    return sorted((r["supplier"], r["customer"], r["kind"]) for r in response.json()["results"])


@pytest.fixture
def web(small_chain):
    """small_chain (NVIDIA -> Azure chips, Azure -> OpenAI compute) and: an NPU maker (a
    sub-segment of chips) supplying a GPU cloud (a sub-segment of cloud) in China since
    2022; Cambricon's planned chips for Zhipu (2026); an ended data link (2019-2023); an
    investment (2021); a link to a draft participant."""
    chips, cloud = Segment.objects.get(slug="ai-chips"), Segment.objects.get(slug="cloud-compute")
    Segment.objects.create(slug="npu", name_en="NPUs", tier="upstream", parent=chips, order=1)
    Segment.objects.create(slug="gpu-cloud", name_en="GPU clouds", tier="upstream", parent=cloud, order=1)
    npu = make_participant("npu-maker", ("npu",), name_en="NPU Maker", country="CN")
    neocloud = make_participant("neocloud", ("gpu-cloud",), name_en="Neocloud", country="CN")
    labeller = make_participant("labeller", ("data-services",), name_en="Labeller", country="DE")
    make_link(npu, neocloud, "chips", since_year=2022, since_month=7).sources.add(
        Source.objects.create(
            publisher="Caixin", title="NPU deal", published="2022-07", url="https://c.example/"
        )
    )
    make_link(small_chain["cambricon"], small_chain["zhipu"], "chips", status="planned", since_year=2026)
    make_link(labeller, small_chain["openai"], "data", status="ended", since_year=2019, until_year=2023)
    make_link(small_chain["nvidia"], small_chain["openai"], "investment", since_year=2021)
    Relationship.objects.filter(supplier__slug="nvidia", customer__slug="azure").update(since_year=2023)
    draft = make_participant("draft-lab", ("foundation-models",), status="draft")
    make_link(small_chain["azure"], draft, "compute")
    return small_chain


ALL = [
    ("azure", "openai", "compute"),
    ("cambricon", "zhipu-ai", "chips"),
    ("labeller", "openai", "data"),
    ("npu-maker", "neocloud", "chips"),
    ("nvidia", "azure", "chips"),
    ("nvidia", "openai", "investment"),
]


def test_every_link_between_published_participants_newest_first(client, web):
    response = client.get("/api/relationships/")
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert (body["count"], body["next"], body["previous"]) == (6, None, None)
    assert keys(response) == ALL
    # newest first; unknown starts last
    assert [r["since"] for r in body["results"]] == ["2026", "2023", "2022-07", "2021", "2019", ""]
    first = body["results"][2]
    assert first == {
        "supplier": "npu-maker",
        "supplier_name": "NPU Maker",
        "customer": "neocloud",
        "customer_name": "Neocloud",
        "kind": "chips",
        "is_supply": True,
        "status": "active",
        "since": "2022-07",
        "until": "",
        "supplied_segment": "npu",
        "customer_segment": "gpu-cloud",
        "evidence": "",
        "evidence_zh": "",
        "sources": [
            {
                "publisher": "Caixin",
                "title": "NPU deal",
                "published": "2022-07",
                "url": "https://c.example/",
                "checked": None,
            }
        ],
    }
    assert body["results"][3]["is_supply"] is False  # the investment
    assert "draft-lab" not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("supplier=nvidia", [ALL[4], ALL[5]]),
        ("customer=openai", [ALL[0], ALL[2], ALL[5]]),
        ("supplier=nvidia&customer=openai", [ALL[5]]),
        ("supplier=no-such-participant", []),
        ("kind=chips", [ALL[1], ALL[3], ALL[4]]),
        ("kind=investment", [ALL[5]]),
        ("status=planned", [ALL[1]]),
        ("status=ended", [ALL[2]]),
        ("status=active&kind=chips", [ALL[3], ALL[4]]),
        # a segment with its sub-segments
        ("supplied_segment=ai-chips", [ALL[1], ALL[3], ALL[4], ALL[5]]),
        ("supplied_segment=npu", [ALL[3]]),
        ("customer_segment=cloud-compute", [ALL[3], ALL[4]]),
        ("customer_segment=gpu-cloud", [ALL[3]]),
        ("customer_segment=foundation-models&supplied_segment=cloud-compute", [ALL[0]]),
        ("since_from=2022", [ALL[1], ALL[3], ALL[4]]),
        ("since_to=2021", [ALL[2], ALL[5]]),
        ("since_from=2021&since_to=2022", [ALL[3], ALL[5]]),
        # either side's country
        ("country=CN", [ALL[1], ALL[3]]),
        ("country=DE", [ALL[2]]),
        ("country=US&kind=chips", [ALL[4]]),
        ("country=FR", []),
    ],
)
def test_filters(client, web, query, expected):
    response = client.get(f"/api/relationships/?{query}")
    assert keys(response) == expected
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("kind=partner", "kind"),
        ("kind=", None),  # empty: no filter
        ("status=paused", "status"),
        ("supplied_segment=no-such-segment", "supplied_segment"),
        ("customer_segment=%00", "customer_segment"),
        ("since_from=abc", "since_from"),
        ("since_to=2024.0", "since_to"),
        ("since_from=99999", "since_from"),
        ("country=ZZ", "country"),
        ("country=cn", "country"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page_size=5", "page_size"),
        ("page_size=101", "page_size"),
    ],
)
def test_bad_values_are_a_400_naming_the_parameter(client, web, query, parameter):
    response = client.get(f"/api/relationships/?{query}")
    if parameter is None:
        assert response.status_code == 200 and response.json()["count"] == 6
        return
    assert response.status_code == 400, response.content
    body = response.json()
    assert parameter in body["errors"] and parameter in body["detail"]


def test_pages(client, small_chain):
    azure = small_chain["azure"]
    for i in range(24):
        make_link(make_participant(f"fab-{i:02d}", ("ai-chips",)), azure, "chips", since_year=2000 + i)
    first = client.get("/api/relationships/").json()
    assert (first["count"], len(first["results"]), first["previous"]) == (26, 20, None)
    assert first["next"] == "http://testserver/api/relationships/?page=2"
    assert first["results"][0]["supplier"] == "fab-23"
    second = client.get(first["next"]).json()
    assert (len(second["results"]), second["next"]) == (6, None)
    assert second["previous"] == "http://testserver/api/relationships/"
    seen = [(r["supplier"], r["customer"], r["kind"]) for r in first["results"] + second["results"]]
    assert len(set(seen)) == 26
    bigger = client.get("/api/relationships/?page_size=30&kind=chips").json()
    assert (len(bigger["results"]), bigger["next"]) == (25, None)
    filtered = client.get("/api/relationships/?kind=chips&page_size=20").json()
    assert filtered["next"] == "http://testserver/api/relationships/?kind=chips&page=2&page_size=20"
    past = client.get("/api/relationships/?page=3")
    assert past.status_code == 404 and "There is no page 3." in past.json()["detail"]


# /api/flows/ -------------------------------------------------------------------------


def test_flows_are_the_pages_numbers(client, web):
    body = client.get("/api/flows/").json()
    assert body == {
        "count": 2,
        "total_links": 3,
        "results": [
            {
                "supplied_segment": "ai-chips",
                "customer_segment": "cloud-compute",
                "links": 2,
                "with_the_flow": True,
            },
            {
                "supplied_segment": "cloud-compute",
                "customer_segment": "foundation-models",
                "links": 1,
                "with_the_flow": True,
            },
        ],
    }
    page = client.get("/chain/flows/").context["table"]
    assert [(a.slug, b.slug, n) for a, b, n, _w in page.rows] == [
        (r["supplied_segment"], r["customer_segment"], r["links"]) for r in body["results"]
    ]
    chinese = client.get("/api/flows/?customer_group=cn&supplier_group=cn").json()
    assert [(r["supplied_segment"], r["links"]) for r in chinese["results"]] == [("ai-chips", 1)]
    assert client.get("/api/flows/?kind=data").json() == {"count": 0, "total_links": 0, "results": []}


def test_a_flow_against_the_chain_is_marked(client, web):
    make_link(web["openai"], web["azure"], "model")
    flows = {
        (r["supplied_segment"], r["customer_segment"]): r for r in client.get("/api/flows/").json()["results"]
    }
    assert flows["foundation-models", "cloud-compute"]["with_the_flow"] is False


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("kind=investment", "kind"),
        ("kind=x", "kind"),
        ("supplier_group=mars", "supplier_group"),
        ("customer_group=CN", "customer_group"),
    ],
)
def test_flows_bad_values_are_a_400(client, web, query, parameter):
    response = client.get(f"/api/flows/?{query}")
    assert response.status_code == 400
    assert parameter in response.json()["errors"]


# /api/participants/<slug>/graph/ ----------------------------------------------------------


@pytest.fixture
def line(db):
    """A line of supply: power -> fab -> cloud -> lab -> agent -> app, with a second
    supplier into the cloud, a tie and an ended link (no dependency), and a draft
    supplier (not shown)."""
    people = {}
    for slug, segment, country in [
        ("power", "energy-power", "US"),
        ("fab", "ai-chips", "TW"),
        ("cloud", "cloud-compute", "CN"),
        ("lab", "foundation-models", "CN"),
        ("agent", "agent-platforms", "US"),
        ("app", "industry-apps", "FR"),
        ("other-fab", "ai-chips", "US"),
        ("investor", "cloud-compute", "US"),
        ("hidden", "ai-chips", "US"),
    ]:
        people[slug] = make_participant(
            slug,
            (segment,),
            name_en=slug.title(),
            status="draft" if slug == "hidden" else "published",
            country=country,
        )
    for a, b, kind in [
        ("power", "fab", "energy"),
        ("fab", "cloud", "chips"),
        ("other-fab", "cloud", "chips"),
        ("cloud", "lab", "compute"),
        ("lab", "agent", "model"),
        ("agent", "app", "software"),
        ("investor", "lab", "investment"),
        ("hidden", "cloud", "chips"),
    ]:
        make_link(people[a], people[b], kind)
    make_link(people["power"], people["cloud"], "energy", status="ended", until_year=2024)
    return people


def graph(client, slug, depth=None):
    response = client.get(f"/api/participants/{slug}/graph/" + (f"?depth={depth}" if depth else ""))
    assert response.status_code == 200, response.content
    return response.json()


def levels(body):
    found = {}
    for node in body["nodes"]:
        found.setdefault(node["level"], []).append(node["slug"])
    return {level: sorted(slugs) for level, slugs in found.items()}


def edges(body):
    return sorted((e["supplier"], e["customer"], e["kind"]) for e in body["edges"])


def test_graph_depth_one_is_the_default(client, line):
    body = graph(client, "cloud")
    assert (body["participant"], body["depth"], body["truncated"]) == ("cloud", 1, False)
    assert levels(body) == {-1: ["fab", "other-fab"], 0: ["cloud"], 1: ["lab"]}
    assert edges(body) == [
        ("cloud", "lab", "compute"),
        ("fab", "cloud", "chips"),
        ("other-fab", "cloud", "chips"),
    ]
    centre = body["nodes"][0]
    assert centre == {
        "slug": "cloud",
        "name_en": "Cloud",
        "name_zh": "",
        "country": "CN",
        "level": 0,
        "segment": None,
    }
    fab = next(n for n in body["nodes"] if n["slug"] == "fab")
    assert (fab["level"], fab["segment"], fab["country"]) == (-1, "ai-chips", "TW")


def test_graph_by_level_up_to_three_steps(client, line):
    assert levels(graph(client, "cloud", 2)) == {
        -2: ["power"],
        -1: ["fab", "other-fab"],
        0: ["cloud"],
        1: ["lab"],
        2: ["agent"],
    }
    three = graph(client, "cloud", 3)
    assert levels(three)[3] == ["app"] and -3 not in levels(three)
    assert edges(three) == [
        ("agent", "app", "software"),
        ("cloud", "lab", "compute"),
        ("fab", "cloud", "chips"),
        ("lab", "agent", "model"),
        ("other-fab", "cloud", "chips"),
        ("power", "fab", "energy"),
    ]
    for body in (graph(client, "cloud", 3), graph(client, "lab", 3)):
        text = str(body)
        assert "hidden" not in text and "investor" not in text  # unpublished, and a tie
    assert levels(graph(client, "app", 3)) == {-3: ["cloud"], -2: ["lab"], -1: ["agent"], 0: ["app"]}


@pytest.mark.parametrize("depth", ["0", "4", "-1", "abc", "1.0", "", "%00"])
def test_graph_depth_outside_one_to_three_is_a_400(client, line, depth):
    response = client.get(f"/api/participants/cloud/graph/?depth={depth}")
    assert response.status_code == 400
    assert "depth" in response.json()["errors"]


@pytest.mark.parametrize("slug", ["no-such-participant", "hidden"])
def test_graph_of_an_unknown_or_unpublished_participant_is_a_404(client, line, slug):
    response = client.get(f"/api/participants/{slug}/graph/?depth=2")
    assert response.status_code == 404
    assert slug in response.json()["detail"]


def test_the_chain_endpoints_are_in_the_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    relationship_parameters = {p["name"] for p in paths["/api/relationships/"]["get"]["parameters"]}
    assert relationship_parameters >= {
        "supplier",
        "customer",
        "kind",
        "status",
        "supplied_segment",
        "customer_segment",
        "since_from",
        "since_to",
        "country",
        "page",
        "page_size",
    }
    assert {p["name"] for p in paths["/api/flows/"]["get"]["parameters"]} == {
        "kind",
        "supplier_group",
        "customer_group",
    }
    graph_parameters = paths["/api/participants/{slug}/graph/"]["get"]["parameters"]
    depth = next(p for p in graph_parameters if p["name"] == "depth")
    assert (depth["schema"]["minimum"], depth["schema"]["maximum"]) == (1, 3)


# Queries ------------------------------------------------------------------------------


def _chain(size):
    """``size`` participants in a line of supply, with a source on every link."""
    from tests.test_flows import chain_with_sources

    return chain_with_sources(size)


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # a count, the page of links with both sides and segments, their sources
        ("/api/relationships/", 3),
        ("/api/relationships/?country=CN&status=active&kind=software", 3),
        # and the segment named, checked by the filter; the taxonomy (segments and kinds of
        # record) for its sub-segments' ids
        ("/api/relationships/?supplied_segment=ai-chips&page_size=50", 6),
        # the segments and kinds of record, the bitmap index (three) and the chain index
        ("/api/flows/", 6),
        ("/api/flows/?kind=software&customer_group=cn", 6),
        # the participant; one query a step each way, and the names; the segments and
        # kinds of record
        ("/api/participants/bulk-002/graph/?depth=3", 10),
        ("/api/participants/bulk-002/graph/", 6),
    ],
)
def test_query_count_is_constant(client, django_assert_num_queries, size, url, queries):
    _chain(size)
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200
    body = response.json()
    assert body.get("results") or body.get("edges")
