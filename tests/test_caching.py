"""The anonymous page cache and the cached counts: served from the cache, and stale
after any committed change to the directory (a curator publishes -> the next anonymous
request shows it)."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from directory.catalog.cache import (
    _request_began,
    _request_ended,
    generation,
    start_new_generation,
)
from directory.catalog.search import refresh_search_index
from directory.csvio import import_participants
from directory.models import Offering, Participant, Relationship, Segment, Status
from tests.conftest import make_link, make_participant

pytestmark = pytest.mark.django_db(transaction=True)  # so on_commit invalidation runs

CACHED = override_settings(PAGE_CACHE_SECONDS=300, COUNT_CACHE_SECONDS=300)


@CACHED
def test_second_anonymous_request_is_served_from_the_cache(client, django_assert_num_queries):
    make_participant("nvidia", name_en="NVIDIA")
    first = client.get("/participants/")
    assert first["X-Page-Cache"] == "miss" and "NVIDIA" in first.content.decode()
    with django_assert_num_queries(0):  # nothing but the cache
        second = client.get("/participants/")
    assert second["X-Page-Cache"] == "hit"
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert "Set-Cookie" not in second and not second.cookies


@override_settings(PAGE_CACHE_SECONDS=0, COUNT_CACHE_SECONDS=300)
def test_the_change_feeds_count_is_kept_until_the_next_change(client):
    def counted():
        with CaptureQueriesContext(connection) as captured:
            page = client.get("/changes/?page=2").context["page"]
        return page.paginator.count, any("COUNT(" in q["sql"] for q in captured)

    azure = make_participant("azure", ("cloud-compute",), name_en="Azure")
    for i in range(21):
        make_link(make_participant(f"fab-{i}", name_en=f"Fab {i}"), azure, "chips")
    assert counted() == (21, True)
    assert counted() == (21, False)  # every page of these filters shares the kept count
    make_link(make_participant("fab-new", name_en="Fab new"), azure, "chips")
    assert counted() == (22, True)  # a committed change starts a new generation


@CACHED
def test_language_and_url_have_their_own_entries(client):
    make_participant("cambricon", name_en="Cambricon", name_zh="寒武纪")
    english = client.get("/participants/?q=cambricon")
    chinese = client.get("/participants/?q=cambricon", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese["X-Page-Cache"] == "miss" and "寒武纪" in chinese.content.decode()
    assert english.content != chinese.content
    assert client.get("/participants/?q=other")["X-Page-Cache"] == "miss"


@CACHED
def test_publishing_makes_cached_pages_and_counts_stale(client):
    make_participant("nvidia", name_en="NVIDIA")
    draft = make_participant("newco", name_en="Newco Labs", status=Status.DRAFT)
    for url in ("/", "/participants/", "/segments/ai-chips/"):
        assert "Newco Labs" not in client.get(url).content.decode()
        assert client.get(url)["X-Page-Cache"] == "hit"
    before = generation()
    draft.status = Status.PUBLISHED
    draft.save()  # as the admin's publish does; committed at once in this test
    assert generation() != before
    for url in ("/", "/participants/", "/segments/ai-chips/"):
        response = client.get(url)
        assert response["X-Page-Cache"] == "miss"
        assert "Newco Labs" in response.content.decode()
    fresh = client.get("/participants/?page_size=50")  # a URL not cached before
    assert fresh.context["listing"].page.paginator.count == 2


@override_settings(PAGE_CACHE_SECONDS=0, COUNT_CACHE_SECONDS=300)
def test_a_segments_suppliers_are_kept_until_the_next_change(client):
    def suppliers():
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/segments/cloud-compute/")
        aggregated = any("directory_relationship" in q["sql"] for q in captured)
        return [(p.slug, p.links) for p in response.context["chain"].suppliers], aggregated

    nvidia = make_participant("nvidia", name_en="NVIDIA")
    azure = make_participant("azure", ("cloud-compute",), name_en="Azure")
    make_link(nvidia, azure, "chips")
    assert suppliers() == ([("nvidia", 1)], True)
    assert suppliers() == ([("nvidia", 1)], False)  # from the counts cache

    amd = make_participant("amd", name_en="AMD", status=Status.DRAFT)
    make_link(amd, azure, "chips")
    assert suppliers() == ([("nvidia", 1)], True)  # recomputed, but AMD is a draft
    amd.status = Status.PUBLISHED
    amd.save()
    assert suppliers() == ([("amd", 1), ("nvidia", 1)], True)

    # A link into a sub-segment counts for its segment: NVIDIA now supplies two.
    Segment.objects.create(
        slug="gpu-clouds",
        tier="upstream",
        name_en="GPU clouds",
        parent=Segment.objects.get(slug="cloud-compute"),
    )
    lambda_labs = make_participant("lambda", ("gpu-clouds",), name_en="Lambda")
    make_link(nvidia, lambda_labs, "chips")
    assert suppliers() == ([("nvidia", 2), ("amd", 1)], True)


@CACHED
def test_admin_bulk_publish_invalidates_too(client):
    draft = make_participant("newco", name_en="Newco Labs", status=Status.DRAFT)
    assert "Newco Labs" not in client.get("/participants/").content.decode()
    curator = User.objects.create_superuser("boss", "boss@example.com", "pw-long-enough-123")
    staff = client.__class__()
    staff.force_login(curator)
    response = staff.post(
        "/admin/directory/participant/", {"action": "publish", "_selected_action": [draft.pk]}
    )
    assert response.status_code == 302
    assert Participant.objects.get(pk=draft.pk).status == Status.PUBLISHED
    assert "Newco Labs" in client.get("/participants/").content.decode()


@CACHED
def test_logged_in_curators_and_errors_are_never_cached(client):
    make_participant("nvidia", name_en="NVIDIA")
    curator = User.objects.create_superuser("boss", "boss@example.com", "pw-long-enough-123")
    client.force_login(curator)
    assert "X-Page-Cache" not in client.get("/participants/")
    client.logout()
    assert client.get("/participants/no-such-slug/").status_code == 404
    assert client.get("/participants/no-such-slug/").status_code == 404  # not a cached 200


@override_settings(PAGE_CACHE_SECONDS=0, COUNT_CACHE_SECONDS=0)
def test_caches_can_be_turned_off(client):
    make_participant("nvidia")
    client.get("/participants/")
    assert "X-Page-Cache" not in client.get("/participants/")


@CACHED
def test_a_change_made_by_a_request_renews_its_token(client):
    """Within one request, a committed change (bump) makes later cache keys fresh."""
    _request_began()
    try:
        first = generation()
        assert generation() == first
        start_new_generation()
        assert generation() != first
    finally:
        _request_ended()


@CACHED
def test_an_edit_shows_in_cards_filters_and_api_kept_for_the_generation(client):
    """What the listing and the API keep per generation (rendered cards, the filter
    column, the search window, each participant's JSON) is replaced after a change."""
    nvidia = make_participant("nvidia", name_en="NVIDIA", country="US")
    urls = ("/participants/", "/participants/?q=nvidia", "/api/participants/", "/api/participants/?q=nvidia")
    for url in urls:
        assert "NVIDIA" in client.get(url).content.decode()
    nvidia = Participant.objects.get(pk=nvidia.pk)  # as the admin edits it
    nvidia.name_en = "NVIDIA Corporation"
    nvidia.country = "CN"
    nvidia.save()
    refresh_search_index([nvidia.pk])
    for url in urls:
        body = client.get(url + ("&" if "?" in url else "?") + "page=1").content.decode()
        assert "NVIDIA Corporation" in body, url
    filtered = client.get("/participants/?country=CN").content.decode()
    assert 'value="CN" selected>China (1)</option>' in filtered


@CACHED
def test_an_import_shows_on_the_next_request(client):
    """Bulk inserts send no save signals: the import starts the new generation itself."""
    make_participant("nvidia", name_en="NVIDIA")
    assert "Cerebras" not in client.get("/participants/").content.decode()
    import_participants(
        "name_en,name_zh,segment,website,country,founded,open_source,description_en\n"
        "Cerebras,,ai-chips,https://www.cerebras.ai/,US,2016,no,Wafer-scale chips.\n"
    )
    response = client.get("/participants/")
    assert response["X-Page-Cache"] == "miss" and "Cerebras" in response.content.decode()


def test_every_directory_model_is_either_invalidating_or_never_shown():
    """A model added to the directory must be wired to invalidation (``cache.SHOWN``) or
    declared as never shown by public reads (``cache.NOT_SHOWN``): otherwise a change to
    it would leave stale pages and counts."""
    from django.apps import apps

    from directory.catalog import cache as catalog_cache

    models = apps.get_app_config("directory").get_models(include_auto_created=True)
    names = {m.__name__ for m in models if not m.__name__.startswith("Historical")}
    assert names == set(catalog_cache.SHOWN) | set(catalog_cache.NOT_SHOWN)
    assert not set(catalog_cache.SHOWN) & set(catalog_cache.NOT_SHOWN)


@pytest.mark.parametrize("model_name", ["Segment", "Tag", "Participant", "Offering", "Relationship"])
def test_a_committed_save_of_any_shown_model_starts_a_new_generation(model_name, small_chain):
    from directory.models import Tag

    before = generation()
    row = {
        "Segment": lambda: Segment.objects.get(slug="ai-chips"),
        "Tag": lambda: Tag.objects.create(slug="gpu", name="GPU"),
        "Participant": lambda: small_chain["nvidia"],
        "Offering": lambda: Offering.objects.first(),
        "Relationship": lambda: Relationship.objects.first(),
    }[model_name]()
    middle = generation()
    row.save()
    assert generation() != middle
    assert before != generation()
