"""/changes/ and /changes/feed/: link events (new, status changed, ended), dated when they
happened, and publications, newest first; filters by segment and year; pagination; bad
parameters a note, never an error; a constant number of queries."""

import datetime
import re
import sys
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from directory.models import Relationship, Segment, Source
from tests.conftest import make_link, make_participant
from tests.curation import make_user

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def events(response):
    """``[(kind, date, supplier slug, customer slug)]`` of a /changes/ page of links."""
    return [
        (c.kind, c.date, c.link.supplier.slug, c.link.customer.slug)
        for c in response.context["page"].object_list
    ]


def shown(body):
    """``[(datetime attribute, text shown, kind label)]`` of the entries of a /changes/ page."""
    return re.findall(
        r'<time datetime="([^"]+)">([^<]+)</time>\s*<span class="change-kind">([^<]+)</span>', body
    )


def feed_entries(response):
    root = ElementTree.fromstring(response.content)  # noqa: S314 (our own output)
    return [
        (
            entry.find(f"{ATOM}title").text,
            entry.find(f"{ATOM}updated").text,
            entry.find(f"{ATOM}link").get("href"),
            (entry.find(f"{ATOM}summary").text or ""),
        )
        for entry in root.iter(f"{ATOM}entry")
    ]


def form_data(link, **changes):
    data = {
        "supplier": link.supplier_id,
        "customer": link.customer_id,
        "kind": link.kind,
        "status": link.status,
        "since_year": link.since_year or "",
        "since_month": link.since_month or "",
        "until_year": "",
        "until_month": "",
        "supplied_segment": link.supplied_segment_id,
        "customer_segment": link.customer_segment_id,
        "evidence": link.evidence,
        "evidence_zh": link.evidence_zh,
        "sources": [s.pk for s in link.sources.all()],
        "_save": "Save",
    }
    data.update(changes)
    return data


@pytest.fixture
def dated(db):
    """NVIDIA -> Azure since 2021, with a source; Azure -> OpenAI since May 2023."""
    nvidia = make_participant("nvidia", name_en="NVIDIA")
    azure = make_participant("azure", ("cloud-compute",), name_en="Microsoft Azure")
    openai = make_participant("openai", ("foundation-models",), name_en="OpenAI")
    link = make_link(nvidia, azure, "chips", since_year=2021)
    make_link(azure, openai, "compute", since_year=2023, since_month=5)
    link.sources.add(
        Source.objects.create(
            publisher="Microsoft", title="ND H100 v5", published="2021-11", url="https://example.com/nd"
        )
    )


def test_a_status_change_made_in_the_admin_is_in_the_changes_and_the_feed(client, dated):
    link = Relationship.objects.get(supplier__slug="nvidia", customer__slug="azure")
    client.force_login(make_user("root", superuser=True))
    response = client.post(
        f"/admin/directory/relationship/{link.pk}/change/",
        form_data(link, status="ended", until_year=2024, until_month=6),
    )
    assert response.status_code == 302
    client.logout()

    response = client.get("/changes/")
    assert response.status_code == 200
    assert events(response) == [
        ("ended", datetime.date(2024, 6, 1), "nvidia", "azure"),
        ("new", datetime.date(2023, 5, 1), "azure", "openai"),
        ("new", datetime.date(2021, 1, 1), "nvidia", "azure"),
    ]
    body = response.content.decode()
    assert shown(body)[0] == ("2024-06-01", "2024-06", "link ended")
    first = body[body.index('<li class="change change-ended">') :]
    first = first[: first.index("</li>\n</ul>")]
    # both participants linked, the link as it ended, with its source
    assert 'href="/participants/nvidia/"' in first and 'href="/participants/azure/"' in first
    assert "2021–2024-06, ended" in first
    assert (
        'Microsoft, <a href="https://example.com/nd" rel="nofollow noopener">ND H100 v5</a>, 2021-11' in first
    )
    # the event of its start still shows the link as it was then
    start = body[body.rindex('<li class="change change-new">') :]
    assert "since 2021" in start and "ended" not in start.split("</li>")[0]

    feed = client.get("/changes/feed/")
    assert feed.status_code == 200 and feed["Content-Type"].startswith("application/atom+xml")
    entries = feed_entries(feed)
    assert entries[0][:3] == (
        "NVIDIA supplies chips to Microsoft Azure (link ended)",
        "2024-06-01T00:00:00+00:00",
        "http://testserver/participants/nvidia/",
    )
    assert "Sources: Microsoft, ND H100 v5 (2021-11)" in entries[0][3]
    assert [e[0] for e in entries[1:]] == [
        "Microsoft Azure supplies compute to OpenAI (new link)",
        "NVIDIA supplies chips to Microsoft Azure (new link)",
    ]
    history = Relationship.history.filter(id=link.pk).order_by("-history_id").first()
    assert (history.event, history.history_user.username) == ("ended", "root")


def test_an_end_known_to_the_year_reads_as_the_year(client, dated):
    link = Relationship.objects.get(supplier__slug="nvidia", customer__slug="azure")
    link.status, link.until_year = "ended", 2024
    link.save()
    body = client.get("/changes/").content.decode()
    assert shown(body)[0] == ("2024-01-01", "2024", "link ended")
    assert shown(body)[1] == ("2023-05-01", "2023-05", "new link")


def test_a_change_of_status_is_dated_the_day_it_was_recorded(client, small_chain):
    planned = make_link(
        small_chain["cambricon"], small_chain["azure"], "chips", status="planned", since_year=2030
    )
    planned.status = "active"
    planned.save()
    planned.save()  # a save that changes no status is no event
    today = timezone.localdate()
    response = client.get("/changes/")
    assert events(response)[:2] == [
        ("new", datetime.date(2030, 1, 1), "cambricon", "azure"),  # announced for 2030
        ("status", today, "cambricon", "azure"),
    ]
    assert len(events(response)) == 4
    assert ("2030-01-01", "2030", "new link") in shown(response.content.decode())
    assert (today.isoformat(), today.isoformat(), "status changed") in shown(response.content.decode())


def test_a_deleted_link_is_listed_once(client, dated):
    """Deleting a link writes a history row that repeats its last event; that row is no
    event of its own (it used to show the link's start a second time)."""
    Relationship.objects.get(supplier__slug="nvidia").delete()
    assert events(client.get("/changes/")) == [
        ("new", datetime.date(2023, 5, 1), "azure", "openai"),
        ("new", datetime.date(2021, 1, 1), "nvidia", "azure"),
    ]
    assert len(feed_entries(client.get("/changes/feed/"))) == 2


def test_unpublished_participants_links_are_not_listed(client, small_chain):
    draft = make_participant("secret", ("cloud-compute",), status="draft")
    make_link(small_chain["nvidia"], draft, "chips")
    body = client.get("/changes/").content.decode()
    assert "secret" not in body
    assert len(client.get("/changes/").context["page"].object_list) == 2


# Publications ---------------------------------------------------------------------------


def _published(slug, when, segments=("ai-chips",), **fields):
    return make_participant(slug, segments, published_at=timezone.make_aware(when), **fields)


def test_the_publications_tab(client, db):
    _published("old", datetime.datetime(2023, 3, 1, 12), name_en="Old Co")
    _published("new", datetime.datetime(2025, 2, 1, 12), ("cloud-compute",), name_en="New Co")
    _published("draft", datetime.datetime(2025, 3, 1, 12), name_en="Draft Co", status="draft")
    make_participant("never-dated", name_en="Undated Co")
    response = client.get("/changes/?kind=publications")
    assert response.status_code == 200
    assert [(c.kind, c.participant.slug) for c in response.context["page"].object_list] == [
        ("published", "new"),
        ("published", "old"),
    ]
    body = response.content.decode()
    assert ("2025-02-01", "2025-02-01", "published") in shown(body)
    assert '<a href="/participants/new/">New Co</a>' in body and "Draft Co" not in body
    assert '<option value="publications" selected>' in body
    chips = client.get("/changes/?kind=publications&segment=ai-chips").context["page"].object_list
    assert [c.participant.slug for c in chips] == ["old"]
    in_2025 = client.get("/changes/?kind=publications&year=2025").context["page"].object_list
    assert [c.participant.slug for c in in_2025] == ["new"]
    feed = feed_entries(client.get("/changes/feed/?kind=publications"))
    assert [(title, link) for title, _u, link, _s in feed] == [
        ("Published: New Co", "http://testserver/participants/new/"),
        ("Published: Old Co", "http://testserver/participants/old/"),
    ]


# Filters, pages, bad parameters ---------------------------------------------------------


@pytest.fixture
def spread(small_chain):
    """Events in several segments and years: small_chain's two (this year), chips into a
    sub-segment of cloud in 2022, data into models in 2024, an end in 2024."""
    cloud = Segment.objects.get(slug="cloud-compute")
    Segment.objects.create(slug="gpu-cloud", name_en="GPU clouds", tier="upstream", parent=cloud, order=1)
    neocloud = make_participant("neocloud", ("gpu-cloud",), name_en="Neocloud")
    make_link(small_chain["cambricon"], neocloud, "chips", since_year=2022)
    labeller = make_participant("labeller", ("data-services",), name_en="Labeller")
    make_link(labeller, small_chain["openai"], "data", since_year=2024, since_month=3)
    make_link(labeller, small_chain["zhipu"], "data", status="ended", since_year=2020, until_year=2024)
    return small_chain


def test_filter_by_segment_and_year(client, spread):
    this_year = timezone.localdate().year

    def pairs(query):
        response = client.get(f"/changes/?{query}")
        assert response.status_code == 200 and not response.context["notes"]
        return [(kind, a, b) for kind, _d, a, b in events(response)]

    # cloud and its sub-segment, on either side of the link
    assert sorted(pairs("segment=cloud-compute")) == [
        ("new", "azure", "openai"),
        ("new", "cambricon", "neocloud"),
        ("new", "nvidia", "azure"),
    ]
    assert pairs("segment=gpu-cloud") == [("new", "cambricon", "neocloud")]
    assert pairs("segment=data-services") == [
        ("new", "labeller", "openai"),
        ("ended", "labeller", "zhipu-ai"),
    ]
    assert pairs("year=2024") == [("new", "labeller", "openai"), ("ended", "labeller", "zhipu-ai")]
    assert pairs("year=2024&segment=foundation-models") == pairs("year=2024")
    assert pairs("year=2022&segment=data-services") == []
    assert len(pairs(f"year={this_year}")) == 2
    body = client.get("/changes/?segment=gpu-cloud&year=2022").content.decode()
    assert '<option value="gpu-cloud" selected>' in body and 'value="2022"' in body
    # the feed takes the same filters
    feed = feed_entries(client.get("/changes/feed/?segment=data-services&year=2024"))
    assert [title for title, *_ in feed] == [
        "Labeller supplies data to OpenAI (new link)",
        "Labeller supplies data to Zhipu AI (link ended)",
    ]
    assert 'href="/changes/feed/?kind=links&amp;segment=gpu-cloud&amp;year=2022"' in body


def test_pagination(client, small_chain):
    azure = small_chain["azure"]
    for i in range(23):
        make_link(make_participant(f"fab-{i:02d}", ("ai-chips",)), azure, "chips", since_year=1990 + i)
    first = client.get("/changes/?segment=ai-chips")
    page = first.context["page"]
    assert (page.paginator.count, len(page.object_list), page.paginator.num_pages) == (24, 20, 2)
    body = first.content.decode()
    assert "Page 1 of 2" in body and 'href="?kind=links&amp;segment=ai-chips&amp;page=2"' in body
    second = client.get("/changes/?segment=ai-chips&page=2")
    assert [a for _k, _d, a, _b in events(second)] == ["fab-03", "fab-02", "fab-01", "fab-00"]
    assert 'rel="prev" href="?kind=links&amp;segment=ai-chips&amp;page=1"' in second.content.decode()
    everything = [*events(first), *events(second)]
    assert len(everything) == len(set(everything)) == 24
    assert [d for _k, d, _a, _b in everything] == sorted((d for _k, d, _a, _b in everything), reverse=True)
    assert len(feed_entries(client.get("/changes/feed/?segment=ai-chips"))) == 20


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("kind=gossip", "kind"),
        ("segment=no-such-segment", "segment"),
        ("year=abc", "year"),
        ("year=20245", "year"),
        ("year=%00", "year"),
        ("year=-2024", "year"),
        ("segment=%ff&kind=links", "segment"),
        ("page=abc", "page"),
        ("page=0", "page"),
        ("page=999", "page"),
        ("page=1.5", "page"),
    ],
)
def test_bad_parameters_give_a_note_never_an_error(client, spread, query, parameter):
    response = client.get(f"/changes/?{query}")
    assert response.status_code == 200
    assert parameter in [name for name, _message in response.context["notes"]]
    body = response.content.decode()
    assert '<div class="notes" role="status">' in body
    assert response.context["page"].object_list  # the changes are still shown
    assert client.get(f"/changes/feed/?{query}").status_code == 200


# Queries -------------------------------------------------------------------------------


def _events(size):
    """``size`` links between new participants, each with a history row (an event) and a
    source."""
    source = Source.objects.create(publisher="Reuters", title="Deals", published="2024")
    people = [make_participant(f"p-{i:03d}", ("ai-chips", "cloud-compute")) for i in range(size + 1)]
    for i, (a, b) in enumerate(zip(people, people[1:], strict=False)):
        link = make_link(a, b, "chips", since_year=2000 + i % 25)
        link.sources.add(source)
        if i % 3 == 0:
            link.status, link.until_year = "ended", 2025
            link.save()
    for i, p in enumerate(people):
        p.published_at = timezone.now() - datetime.timedelta(days=i)
        p.save()


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # the segments and kinds of record; a count and the page of events; those events'
        # rows with both sides and segments; the live links' sources (two: the links, then
        # their sources)
        ("/changes/", 7),
        ("/changes/?segment=ai-chips&year=2025", 7),
        ("/changes/feed/", 5),  # no list of segments to choose from
        # the segments and kinds of record, a count, the page of participants
        ("/changes/?kind=publications", 4),
        ("/changes/?kind=publications&segment=ai-chips", 4),
    ],
)
def test_query_count_is_constant(client, django_assert_num_queries, size, url, queries):
    _events(size)
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200
    if "feed" in url:
        assert len(feed_entries(response)) == min(size + len(range(0, size, 3)), 20)
    else:
        assert response.context["page"].object_list


def test_the_feed_lists_the_newest_changes_up_to_its_limit(client, small_chain, monkeypatch):
    """At most ``MAX_CHANGES`` events for one choice of filters (the newest), with a note
    pointing to the year filter for older ones; a year still finds the older ones."""
    monkeypatch.setattr(sys.modules["directory.catalog.links"], "MAX_CHANGES", 21)
    azure = small_chain["azure"]
    for i in range(23):
        make_link(make_participant(f"fab-{i:02d}", ("ai-chips",)), azure, "chips", since_year=1990 + i)
    first = client.get("/changes/?segment=ai-chips")
    assert first.context["page"].paginator.count == 21
    body = first.content.decode()
    assert "Page 1 of 2" in body and "These are the newest 21 changes" in body
    second = client.get("/changes/?segment=ai-chips&page=2")
    # the newest 21 of 24: the link made today, then fab-22 down to fab-03
    assert [a for _k, _d, a, _b in events(second)] == ["fab-03"]
    older = client.get("/changes/?segment=ai-chips&year=1990")
    assert [a for _k, _d, a, _b in events(older)] == ["fab-00"]
    assert "These are the newest" not in older.content.decode()
