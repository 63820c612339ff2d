"""/chain/flows/ and /chain/links/: the supply flows between the chain's segments, as a
diagram and a table, equal to the active supply links counted one by one; filters by
kind and by either side's country group; each flow leads to the links behind it;
concentration per segment; a constant number of queries."""

import random
import re
from collections import Counter

import pytest
from django.http import QueryDict
from django.test import override_settings
from django.utils.html import escape

from directory import catalog
from directory.catalog.flows import FlowFilter
from directory.countries import COUNTRY_GROUPS, country_group
from directory.models import SUPPLY_KINDS, TIES, Relationship, Segment, Source
from tests.conftest import make_chain, make_link, make_participant

pytestmark = pytest.mark.django_db

BACKENDS = ["bitmap", "sql"]
KINDS = [*SUPPLY_KINDS, *TIES]
COUNTRIES = ["US", "CN", "DE", "JP", "BR", ""]  # every country group, and none


def _random_chain(rng, size):
    """Participants in random segments (sub-segments too, or none at all), countries of
    every group and every status, linked at random: every kind, every status, segments
    chosen among each side's own."""
    chips, models = Segment.objects.get(slug="ai-chips"), Segment.objects.get(slug="foundation-models")
    Segment.objects.create(slug="npu", name_en="NPUs", tier="upstream", parent=chips, order=1)
    Segment.objects.create(slug="speech", name_en="Speech", tier="midstream", parent=models, order=1)
    slugs = list(Segment.objects.values_list("slug", flat=True))
    people = [
        make_participant(
            f"r{i:03d}",
            tuple(rng.sample(slugs, rng.choice([0, 1, 1, 2, 3]))),
            country=rng.choice(COUNTRIES),
            status=rng.choice(["published"] * 6 + ["draft", "archived"]),
        )
        for i in range(size)
    ]
    own = {p.pk: list(p.offerings.values_list("segment__slug", flat=True)) for p in people}
    seen = set()
    for _ in range(size * 4):
        a, b, kind = rng.choice(people), rng.choice(people), rng.choice(KINDS)
        if a == b or (a.pk, b.pk, kind) in seen:
            continue
        seen.add((a.pk, b.pk, kind))
        status = rng.choice(["active"] * 4 + ["planned", "ended"])
        make_link(
            a,
            b,
            kind,
            supplied=rng.choice(own[a.pk]) if own[a.pk] else None,
            received=rng.choice(own[b.pk]) if own[b.pk] else None,
            status=status,
            since_year=rng.choice([None, 2019, 2023, 2025]),
            until_year=2025 if status == "ended" else None,
        )
    return people


def _top(segment):
    return segment.parent if segment.parent_id else segment


def counted_one_by_one(flow_filter):
    """``{(supplied top segment id, customer top segment id): links}`` from every link,
    looked at one at a time."""
    cells = Counter()
    links = Relationship.objects.select_related(
        "supplier", "customer", "supplied_segment__parent", "customer_segment__parent"
    )
    for link in links:
        if link.status != "active" or link.kind in TIES:
            continue
        if link.supplier.status != "published" or link.customer.status != "published":
            continue
        if link.supplied_segment is None or link.customer_segment is None:
            continue
        if flow_filter.kind and link.kind != flow_filter.kind:
            continue
        if flow_filter.supplier_group and country_group(link.supplier.country) != flow_filter.supplier_group:
            continue
        if flow_filter.customer_group and country_group(link.customer.country) != flow_filter.customer_group:
            continue
        cells[_top(link.supplied_segment).pk, _top(link.customer_segment).pk] += 1
    return dict(cells)


FILTERS = [
    FlowFilter(),
    *(FlowFilter(kind=kind) for kind in ("chips", "compute", "model", "data")),
    *(FlowFilter(supplier_group=group) for group in COUNTRY_GROUPS),
    *(FlowFilter(customer_group=group) for group in COUNTRY_GROUPS),
    FlowFilter(customer_group="cn", supplier_group="us"),
    FlowFilter(kind="chips", customer_group="cn"),
    FlowFilter(kind="software", supplier_group="other", customer_group="europe"),
]


@pytest.mark.parametrize("seed", [11, 12])
def test_flows_equal_the_links_counted_one_by_one(client, seed):
    rng = random.Random(seed)
    _random_chain(rng, 45)
    slugs = {s.pk: s.slug for s in Segment.objects.all()}
    nonzero = 0
    for flow_filter in FILTERS:
        expected = counted_one_by_one(flow_filter)
        nonzero += bool(expected)
        query = flow_filter.query()
        for backend in BACKENDS:
            with override_settings(CATALOG_BACKEND=backend):
                assert catalog.flow_table(flow_filter).cells == expected, (backend, flow_filter)
                page = client.get(f"/chain/flows/?{query}")
                table = page.context["table"]
                assert {(a.pk, b.pk): n for a, b, n, _with in table.rows} == expected, (backend, flow_filter)
                assert table.total == sum(expected.values())
                api = client.get(f"/api/flows/?{query}").json()
                assert {
                    (row["supplied_segment"], row["customer_segment"]): row["links"] for row in api["results"]
                } == {(slugs[a], slugs[b]): n for (a, b), n in expected.items()}
                assert api["total_links"] == sum(expected.values()) and api["count"] == len(expected)
    assert nonzero >= 10  # most filters found some flow
    assert sum(counted_one_by_one(FlowFilter()).values()) >= 20


def test_each_flow_leads_to_as_many_links_as_it_counts(client):
    rng = random.Random(21)
    _random_chain(rng, 40)
    for flow_filter in (FlowFilter(), FlowFilter(customer_group="cn"), FlowFilter(kind="model")):
        page = client.get(f"/chain/flows/?{flow_filter.query()}")
        body = page.content.decode()
        rows = page.context["table"].rows
        assert rows
        for supplied, received, n, _with in rows:
            url = f"/chain/links/?supplied={supplied.slug}&customer={received.slug}"
            if flow_filter.query():
                url += f"&{flow_filter.query()}"
            assert f'href="{escape(url)}"' in body  # from the table and the diagram
            links = client.get(url)
            assert links.status_code == 200
            assert links.context["page"].paginator.count == n, url
            expected = f"{n} active supply link{'s' if n > 1 else ''}"
            assert expected in links.content.decode()
            for link in links.context["page"].object_list:
                assert (link.status, link.kind in SUPPLY_KINDS) == ("active", True)


# A hand-made chain ------------------------------------------------------------------------


@pytest.fixture
def trade(small_chain):
    """small_chain (NVIDIA -> Azure chips, Azure -> OpenAI compute) with a Chinese side:
    Cambricon chips into a Chinese cloud, the cloud's compute into Zhipu, a link against
    the flow (a model into cloud), and links that are no supply flow: planned, ended, a
    tie, and one to an unpublished customer."""
    aliyun = make_participant("aliyun", ("cloud-compute",), name_en="Alibaba Cloud", country="CN")
    make_link(small_chain["cambricon"], aliyun, "chips", since_year=2022)
    make_link(small_chain["nvidia"], aliyun, "chips", since_year=2020)
    make_link(aliyun, small_chain["zhipu"], "compute")
    make_link(small_chain["zhipu"], aliyun, "model")  # against the flow
    make_link(small_chain["cambricon"], small_chain["azure"], "chips", status="planned", since_year=2030)
    make_link(
        small_chain["nvidia"],
        small_chain["openai"],
        "chips",
        received="foundation-models",
        status="ended",
        until_year=2024,
    )
    make_link(small_chain["nvidia"], small_chain["openai"], "investment")
    draft = make_participant("draft-cloud", ("cloud-compute",), status="draft")
    make_link(small_chain["nvidia"], draft, "chips")
    return small_chain


def _cells(response):
    return {(a.slug, b.slug): n for a, b, n, _with in response.context["table"].rows}


def test_flows_page_shows_the_table_and_the_diagram(client, trade):
    response = client.get("/chain/flows/")
    assert response.status_code == 200
    assert _cells(response) == {
        ("ai-chips", "cloud-compute"): 3,
        ("cloud-compute", "foundation-models"): 2,
        ("foundation-models", "cloud-compute"): 1,
    }
    body = response.content.decode()
    assert "6 active supply links between the segments" in body
    # the table: one row and one column per top-level segment, each number a link
    table = body[body.index('<table class="flow-table">') : body.index("</table>")]
    assert table.count('<th scope="row">') == 10
    assert '<a href="/chain/links/?supplied=ai-chips&amp;customer=cloud-compute">3</a>' in table
    assert '<a href="/chain/links/?supplied=cloud-compute&amp;customer=foundation-models">2</a>' in table
    assert table.count("<a href=") == 3
    # the diagram: a band per flow, titled with its number, linking to the same list;
    # the one against the flow dashed
    figure = body[body.index('<figure class="flow-diagram">') :]
    svg = figure[: figure.index("</svg>")]
    bands = re.findall(r'<a href="([^"]+)"><path class="(band[^"]*)"[^>]*><title>([^<]+)</title>', svg)
    assert bands == [
        (
            "/chain/links/?supplied=ai-chips&amp;customer=cloud-compute",
            "band",
            "AI chips → Cloud &amp; compute services: 3 links",
        ),
        (
            "/chain/links/?supplied=cloud-compute&amp;customer=foundation-models",
            "band",
            "Cloud &amp; compute services → Foundation models: 2 links",
        ),
        (
            "/chain/links/?supplied=foundation-models&amp;customer=cloud-compute",
            "band against",
            "Foundation models → Cloud &amp; compute services: 1 link",
        ),
    ]
    assert 'role="img"' in svg and "<desc" in svg
    assert "draft-cloud" not in body


def test_the_chain_map_links_to_the_flows(client, trade):
    assert 'href="/chain/flows/"' in client.get("/").content.decode()


@pytest.mark.parametrize(
    ("query", "cells"),
    [
        ("kind=chips", {("ai-chips", "cloud-compute"): 3}),
        ("kind=compute", {("cloud-compute", "foundation-models"): 2}),
        ("kind=energy", {}),
        # Chinese customers' suppliers, by the suppliers' country
        (
            "customer_group=cn",
            {
                ("ai-chips", "cloud-compute"): 2,
                ("cloud-compute", "foundation-models"): 1,
                ("foundation-models", "cloud-compute"): 1,
            },
        ),
        ("customer_group=cn&supplier_group=us", {("ai-chips", "cloud-compute"): 1}),
        (
            "customer_group=cn&supplier_group=cn",
            {
                ("ai-chips", "cloud-compute"): 1,
                ("cloud-compute", "foundation-models"): 1,
                ("foundation-models", "cloud-compute"): 1,
            },
        ),
        ("supplier_group=europe", {}),
    ],
)
def test_flows_filtered_by_kind_and_country_group(client, trade, query, cells):
    response = client.get(f"/chain/flows/?{query}")
    assert response.status_code == 200
    assert _cells(response) == cells
    body = response.content.decode()
    assert '<meta name="robots" content="noindex, follow">' in body
    if cells:
        canonical = FlowFilter.parse(QueryDict(query))[0].query()
        assert f"&amp;{escape(canonical)}" in body  # each flow's link keeps the filter
    else:
        assert "No active supply link matches these filters." in body


@pytest.mark.parametrize(
    "query",
    [
        "kind=investment",
        "kind=gossip",
        "supplier_group=mars",
        "customer_group=%00",
        "kind=chips&customer_group=zz",
    ],
)
def test_unknown_filter_values_are_ignored_with_a_note(client, trade, query):
    response = client.get(f"/chain/flows/?{query}")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="notes"' in body and "ignored" in body
    parsed, _errors = FlowFilter.parse(QueryDict(query))
    assert response.context["flow_filter"] == parsed
    links = client.get(f"/chain/links/?supplied=ai-chips&{query}")
    assert links.status_code == 200 and "ignored" in links.content.decode()


def test_the_links_behind_a_flow(client, trade):
    response = client.get("/chain/links/?supplied=ai-chips&customer=cloud-compute")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1>AI chips → Cloud &amp; compute services</h1>" in body
    assert "3 active supply links" in body
    # newest first; each names both participants, linked
    assert [(k.supplier.slug, k.customer.slug) for k in response.context["page"].object_list] == [
        ("cambricon", "aliyun"),
        ("nvidia", "aliyun"),
        ("nvidia", "azure"),
    ]
    for slug in ("cambricon", "aliyun", "nvidia", "azure"):
        assert f'href="/participants/{slug}/"' in body
    assert "since 2022" in body
    # the planned, the ended, the tie and the unpublished customer are not behind any flow
    assert "draft-cloud" not in body and "planned for" not in body
    filtered = client.get("/chain/links/?supplied=ai-chips&customer=cloud-compute&customer_group=cn")
    assert [k.supplier.slug for k in filtered.context["page"].object_list] == ["cambricon", "nvidia"]
    assert "filtered as on the flows page" in filtered.content.decode()
    assert 'href="/chain/flows/?customer_group=cn"' in filtered.content.decode()


def test_links_of_one_side_only_and_unknown_segments(client, trade):
    into_cloud = client.get("/chain/links/?customer=cloud-compute")
    assert into_cloud.context["page"].paginator.count == 4
    assert "<h1>Supply into Cloud &amp; compute services</h1>" in into_cloud.content.decode()
    response = client.get("/chain/links/?supplied=no-such-segment&customer=cloud-compute")
    assert response.status_code == 200
    assert "Unknown segment “no-such-segment” ignored." in response.content.decode()
    assert response.context["page"].paginator.count == 4


def test_sub_segment_links_count_for_their_top_segment(client, small_chain):
    npu = Segment.objects.create(
        slug="npu", name_en="NPUs", tier="upstream", parent=Segment.objects.get(slug="ai-chips"), order=1
    )
    maker = make_participant("npu-maker", ("npu",), country="CN")
    make_link(maker, small_chain["azure"], "chips", supplied="npu")
    assert _cells(client.get("/chain/flows/"))[("ai-chips", "cloud-compute")] == 2
    response = client.get("/chain/links/?supplied=ai-chips&customer=cloud-compute")
    assert {k.supplier.slug for k in response.context["page"].object_list} == {"nvidia", "npu-maker"}
    only = client.get(f"/chain/links/?supplied={npu.slug}")
    assert [k.supplier.slug for k in only.context["page"].object_list] == ["npu-maker"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_link_without_a_segment_on_one_side_is_left_out(client, small_chain, backend):
    """A customer with no offering has no segment: its link is in no flow, and neither the
    flows nor the segment pages fail over it (the sql backend used to)."""
    bare = make_participant("bare", (), name_en="Bare Lab")
    link = make_link(small_chain["azure"], bare, "compute")
    assert (link.supplied_segment.slug, link.customer_segment) == ("cloud-compute", None)
    with override_settings(CATALOG_BACKEND=backend):
        flows = client.get("/chain/flows/")
        assert flows.status_code == 200
        assert _cells(flows) == {("ai-chips", "cloud-compute"): 1, ("cloud-compute", "foundation-models"): 1}
        cloud = client.get("/segments/cloud-compute/")
        assert cloud.status_code == 200
        assert [p.slug for p in cloud.context["chain"].customers] == ["openai"]
    assert client.get("/chain/links/?supplied=cloud-compute").context["page"].paginator.count == 2


def test_the_links_list_is_paginated(client, small_chain):
    azure = small_chain["azure"]
    for i in range(55):
        make_link(make_participant(f"fab-{i:02d}", ("ai-chips",)), azure, "chips", since_year=1990 + i)
    first = client.get("/chain/links/?supplied=ai-chips&customer=cloud-compute")
    assert first.context["page"].paginator.count == 56
    assert len(first.context["page"].object_list) == 50
    body = first.content.decode()
    assert "Page 1 of 2" in body
    assert 'href="?supplied=ai-chips&amp;customer=cloud-compute&amp;page=2"' in body
    second = client.get("/chain/links/?supplied=ai-chips&customer=cloud-compute&page=2")
    assert [k.supplier.slug for k in second.context["page"].object_list] == [
        "fab-04",
        "fab-03",
        "fab-02",
        "fab-01",
        "fab-00",
        "nvidia",  # no start known: last
    ]
    for page, shown in (("abc", 1), ("0", 1), ("999", 2), ("1.5", 1)):
        response = client.get(f"/chain/links/?supplied=ai-chips&page={page}")
        assert response.status_code == 200
        assert response.context["page"].number == shown
        assert [name for name, _message in response.context["notes"]] == ["page"]
        assert '<div class="notes" role="status">' in response.content.decode()


# Concentration -----------------------------------------------------------------------


def test_concentration_by_hand_on_the_flows_page(client, small_chain):
    """Into cloud: NVIDIA 2 links, Cambricon 1, Zhipu 1 (a planned link and a tie do not
    count). Shares 1/2, 1/4, 1/4: HHI = 2500 + 625 + 625 = 3750, top share 50%. Into
    foundation models: Azure alone, HHI 10000."""
    azure = small_chain["azure"]
    other = make_participant("other-cloud", ("cloud-compute",), name_en="Other Cloud")
    make_link(small_chain["nvidia"], other, "chips")
    make_link(small_chain["cambricon"], azure, "chips")
    make_link(small_chain["zhipu"], azure, "model")
    make_link(small_chain["openai"], azure, "model", status="planned")
    make_link(small_chain["openai"], other, "investment")
    for query in ("", "?kind=compute"):  # counted over every active supply link, whatever the filter
        response = client.get(f"/chain/flows/{query}")
        concentration = response.context["table"].concentration
        cloud = Segment.objects.get(slug="cloud-compute")
        models = Segment.objects.get(slug="foundation-models")
        c = concentration[cloud.pk]
        assert (c.suppliers, c.links, c.top_share, c.hhi, c.level) == (3, 4, 0.5, 3750, "high")
        m = concentration[models.pk]
        assert (m.suppliers, m.links, m.top_share, m.hhi) == (1, 1, 1.0, 10000)
        body = response.content.decode()
        table = body[body.index('<table class="concentration-table">') :]
        table = table[: table.index("</table>")]
        assert (
            '<th scope="row"><a href="/segments/cloud-compute/">Cloud &amp; compute services</a></th>'
            "<td>3</td><td>50%</td><td>3750</td>"
        ) in table
        assert "<td>1</td><td>100%</td><td>10000</td>" in table
        assert "<td>0</td><td>—</td><td>—</td>" in table  # energy: nobody supplies into it
        assert "Herfindahl" in body


# Queries -------------------------------------------------------------------------------


def chain_with_sources(size):
    """``make_chain(size)`` with a source cited by every link."""
    participants = make_chain(size)
    source = Source.objects.create(
        publisher="Reuters", title="Deals", published="2024", url="https://example.com/"
    )
    Relationship.sources.through.objects.bulk_create(
        Relationship.sources.through(relationship_id=pk, source_id=source.pk)
        for pk in Relationship.objects.values_list("pk", flat=True)
    )
    return participants


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # the segments and kinds of record; the bitmap index (participants, offerings,
        # records) and the chain index (the links), from which the flows and every
        # segment's concentration are read
        ("/chain/flows/", 6),
        ("/chain/flows/?kind=software&customer_group=cn", 6),
        # the segments and kinds of record (for the filter), the count, the page of links
        # with both sides and segments, their sources
        ("/chain/links/?supplied=cloud-compute&customer_group=us", 5),
        ("/chain/links/", 3),
    ],
)
def test_query_count_is_constant(client, django_assert_num_queries, size, url, queries):
    chain_with_sources(size)
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200
    if "links" in url:
        links = response.context["page"].object_list
        assert links and all(link.sources.all() for link in links)
    else:
        assert response.context["table"].rows


@pytest.mark.parametrize("size", [5, 60])
def test_the_sql_backend_reads_the_flows_page_in_queries_bounded_by_the_segments(
    client, django_assert_max_num_queries, size
):
    """The reference backend reads each top-level segment's concentration apart: a few
    queries per segment, never per participant or link."""
    chain_with_sources(size)
    with override_settings(CATALOG_BACKEND="sql"), django_assert_max_num_queries(3 + 3 * 10):
        response = client.get("/chain/flows/")
    assert response.context["table"].rows
