"""The Atom feed, sitemap.xml and robots.txt."""

from xml.etree import ElementTree

import pytest
from django.utils import timezone

from directory.models import Participant, RecordKind
from tests.conftest import make_chain, make_participant

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def test_atom_feed_lists_recently_published_participants(client, small_chain):
    now = timezone.now()
    Participant.objects.filter(slug="openai").update(published_at=now)
    Participant.objects.filter(slug="nvidia").update(published_at=now - timezone.timedelta(days=3))
    make_participant("hidden", status="draft")
    response = client.get("/feed/atom/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ElementTree.fromstring(response.content)  # noqa: S314 (our own output)
    entries = feed.findall(f"{ATOM}entry")
    links = [e.find(f"{ATOM}link").get("href") for e in entries]
    assert links[:2] == [
        "http://testserver/participants/openai/",
        "http://testserver/participants/nvidia/",
    ]
    assert len(entries) == 5
    assert "hidden" not in response.content.decode()
    assert entries[0].find(f"{ATOM}title").text == "OpenAI"


def test_feed_is_linked_from_pages(client, db):
    assert 'type="application/atom+xml"' in client.get("/").content.decode()


def test_sitemap_lists_pages_segments_and_published_participants(client, small_chain):
    make_participant("hidden", status="archived")
    RecordKind.objects.create(
        slug="iso-42001", name_en="ISO/IEC 42001", jurisdiction="intl", authority_en="-", description_en="."
    )
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    sitemap = ElementTree.fromstring(response.content)  # noqa: S314 (our own output)
    locations = {e.text for e in sitemap.iter(f"{SITEMAP}loc")}
    assert "http://testserver/" in locations and "http://testserver/zh-hans/" in locations
    assert "http://testserver/participants/" in locations
    assert "http://testserver/segments/ai-chips/" in locations
    assert "http://testserver/participants/cambricon/" in locations
    assert "http://testserver/participants/hidden/" not in locations
    for page in ("chain/flows/", "changes/", "records/", "records/iso-42001/"):
        assert f"http://testserver/{page}" in locations
    assert len(locations) == 2 * (5 + 10 + 1 + 5)  # each page in English and Chinese


def test_robots_txt_points_at_the_sitemap(client, db):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    body = response.content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in body
    assert "Disallow: /admin/" in body and "Disallow: /participants/export.csv" in body
    assert "Disallow: /relationships/export.csv" in body and "Disallow: /records/export.csv" in body


@pytest.mark.parametrize("size", [5, 60])
def test_query_counts_are_constant(client, db, django_assert_max_num_queries, size):
    make_chain(size)
    with django_assert_max_num_queries(1):  # the newest participants
        assert client.get("/feed/atom/").status_code == 200
    # segments: count (the sitemap paginates) and page; the kinds of record; participants:
    # count and page
    with django_assert_max_num_queries(5):
        assert client.get("/sitemap.xml").status_code == 200
