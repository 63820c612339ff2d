"""The listing's counts come from the bitmap index (directory/facet_index.py) and the
search window (directory/search.py): every count must equal what the SQL filter lists
when that option is chosen, and a search wider than the window says so."""

import itertools
import random
import threading
from array import array

import pytest
from django.core.cache import cache
from django.db.models import F
from django.http import QueryDict
from django.test import override_settings

from directory import caching
from directory.facet_index import (
    FacetIndex,
    _adjacency,
    bits_of,
    build_index,
    exactly,
    facet_index,
    link_index,
    most_linked,
    plane_counts,
    set_bits,
)
from directory.filters import ParticipantFilter
from directory.models import Participant, Relationship, Segment, Status

from .conftest import make_participant, page_slugs

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied(db):
    """Participants over countries, kinds, licences and segments, one in a sub-segment,
    one in two segments, and unpublished ones that must never be counted."""
    chips = Segment.objects.get(slug="ai-chips")
    Segment.objects.create(slug="npu", name_en="NPUs", tier=chips.tier, parent=chips, order=1)
    rows = [
        ("alpha", ("ai-chips",), "US", "vendor", "yes"),
        ("beta", ("ai-chips", "cloud-compute"), "CN", "vendor", "no"),
        ("gamma", ("npu",), "CN", "research", "partly"),
        ("delta", ("foundation-models",), "FR", "open_source", "yes"),
        ("epsilon", ("foundation-models", "agent-platforms"), "US", "service", "no"),
        ("zeta", ("industry-apps",), "US", "both", "partly"),
        ("eta", ("cloud-compute",), "", "vendor", "no"),
    ]
    for slug, segments, country, kind, licence in rows:
        make_participant(
            slug, segments, country=country, kind=kind, open_source=licence, description_en="chip model"
        )
    make_participant("hidden", ("ai-chips",), country="DE", status=Status.DRAFT, description_en="chip")
    make_participant("gone", ("npu",), country="CN", status=Status.ARCHIVED, description_en="chip")


def _listed(client, url, params):
    response = client.get(url, {**params, "page_size": 100})
    assert response.status_code == 200
    listing = response.context["listing"]
    return listing, page_slugs(listing)


BASES = [
    {},
    {"country": "CN"},
    {"segment": ["ai-chips"], "open_source": "true"},
    {"tier": "upstream", "kind": "vendor"},
    {"segment": ["ai-chips", "foundation-models"]},
    {"q": "chip"},
    {"q": "chip", "country": "US"},
]


@pytest.mark.parametrize("base", BASES, ids=lambda b: "&".join(f"{k}={v}" for k, v in b.items()) or "none")
def test_every_facet_count_is_what_choosing_it_lists(client, varied, base):
    listing, slugs = _listed(client, "/participants/", base)
    assert listing.page.paginator.count == len(slugs)
    assert "hidden" not in slugs and "gone" not in slugs
    checked = 0
    for name, options in listing.facets.items():
        for option in options:
            if option.value == "false":
                continue  # the same as "no", listed only when chosen
            chosen = {**base, name: [option.value] if name == "segment" else option.value}
            _, chosen_slugs = _listed(client, "/participants/", chosen)
            assert option.count == len(chosen_slugs), (name, option.value, chosen_slugs)
            checked += 1
    assert checked >= 15


def test_segment_page_counts_within_the_segment_and_its_sub_segments(client, varied):
    listing, slugs = _listed(client, "/segments/ai-chips/", {})
    assert sorted(slugs) == ["alpha", "beta", "gamma"]
    assert listing.page.paginator.count == 3
    countries = {o.value: o.count for o in listing.facets["country"]}
    assert countries == {"US": 1, "CN": 2}
    listing, slugs = _listed(client, "/segments/ai-chips/", {"country": "CN", "open_source": "no"})
    assert slugs == ["beta"] and listing.page.paginator.count == 1
    assert {o.value: o.count for o in listing.facets["open_source"]}["partly"] == 1


def test_index_holds_published_participants_only_in_name_order(varied):
    index = build_index()
    published = Participant.objects.published().order_by("name_en", "pk")
    assert list(index.pks) == list(published.values_list("pk", flat=True))
    assert index.pks_in(index.everyone) == list(index.pks)
    npu = Segment.objects.get(slug="npu")
    in_npu = published.filter(offerings__segment=npu).values_list("pk", flat=True)
    assert index.segment[npu.pk] == index.bits_of(in_npu)
    assert index.pks_in(index.segment[npu.pk]) == list(in_npu)
    hidden = Participant.objects.exclude(status="published").values_list("pk", flat=True)
    assert hidden and index.bits_of([*hidden, 10**9]) == 0
    # Each participant's segments, which its card shows.
    for participant in published.prefetch_related("offerings"):
        expected = sorted({o.segment_id for o in participant.offerings.all()})
        assert sorted(index.segment_ids_of(participant.pk)) == expected, participant.slug
    assert [index.segment_ids_of(pk) for pk in [*hidden, 10**9]] == [[]] * (len(hidden) + 1)


def test_a_page_is_read_off_the_bitset_at_any_depth():
    rng = random.Random(7)
    for size in (0, 1, 63, 64, 65, 5000, 20_000):
        chosen = sorted(rng.sample(range(size), rng.randint(0, size)))
        bits = bits_of(chosen)
        for start, count in (
            (0, 20),
            (0, 0),
            (len(chosen) // 2, 20),
            (max(len(chosen) - 5, 0), 20),
            (len(chosen), 20),
        ):
            assert set_bits(bits, start, count) == chosen[start : start + count], (size, start, count)
        assert set_bits(bits, 0, len(chosen)) == chosen


def test_listing_pages_in_name_order_match_the_database(client, db):
    rng = random.Random(3)
    for i in range(50):  # names repeat, so ties go by id as in the database's order
        make_participant(
            f"p{i:02d}",
            (rng.choice(["ai-chips", "cloud-compute"]),),
            name_en=f"Name {rng.randint(0, 20)}",
            country=rng.choice(["US", "CN"]),
        )
    published = Participant.objects.published()
    for params in (
        {},
        {"ordering": "-name"},
        {"country": "CN"},
        {"country": "US", "segment": "ai-chips", "ordering": "name"},
    ):
        fields = ("-name_en", "-pk") if params.get("ordering") == "-name" else ("name_en", "pk")
        wanted = published.filter(country=params.get("country", "") or F("country"))
        if "segment" in params:
            wanted = wanted.filter(offerings__segment__slug=params["segment"])
        expected = list(wanted.order_by(*fields).values_list("slug", flat=True))
        listed = []
        for page in (1, 2, 3):
            response = client.get("/participants/", {**params, "page": page})
            if response.context["listing"].page.number == page:
                listed += page_slugs(response.context["listing"])
        assert listed == expected, params


def test_bits_of_sets_exactly_the_given_positions():
    for pks in ([], [0], [7, 8, 9], [1, 64, 1000, 99_999]):
        bits = bits_of(pks)
        assert bits.bit_count() == len(pks)
        assert all(bits >> pk & 1 for pk in pks)


@override_settings(SEARCH_WINDOW=3)
def test_a_search_wider_than_the_window_says_so(client, varied):
    listing, slugs = _listed(client, "/participants/", {"q": "chip"})  # 7 published matches
    assert listing.truncated and len(slugs) == 3 and listing.page.paginator.count == 3
    body = client.get("/participants/", {"q": "chip"}).content.decode()
    assert "More than 3 participants" in body and "cover the first 3 matches" in body
    # Facet options are not disabled when their counts only cover the window.
    assert " disabled" not in body.split('name="segment"', 1)[1].split("</fieldset>", 1)[0]
    api = client.get("/api/participants/", {"q": "chip"})
    assert api.json()["count"] == 3 and api["X-Search-Truncated"] == "true"


@override_settings(SEARCH_WINDOW=3)
def test_a_narrow_search_is_exact(client, varied):
    listing, slugs = _listed(client, "/participants/", {"q": "chip", "country": "CN"})
    assert sorted(slugs) == ["beta", "gamma"] and not listing.truncated
    assert "More than" not in client.get("/participants/", {"q": "chip", "country": "CN"}).content.decode()
    api = client.get("/api/participants/", {"q": "chip", "country": "CN"})
    assert api.json()["count"] == 2 and "X-Search-Truncated" not in api


def test_results_equal_the_sql_filter_for_every_combination(client, varied):
    """The index's total equals the number of participants the SQL filter lists, over
    every combination of a few values of each parameter."""
    values = {
        "country": ["", "CN", "US"],
        "segment": [[], ["ai-chips"], ["cloud-compute", "foundation-models"]],
        "open_source": ["", "true", "no"],
        "tier": ["", "midstream"],
    }
    for combo in itertools.product(*values.values()):
        params = {k: v for k, v in zip(values, combo, strict=True) if v}
        listing, slugs = _listed(client, "/participants/", params)
        assert listing.page.paginator.count == len(slugs), params


@override_settings(SEARCH_WINDOW=3)
def test_the_export_of_a_search_has_every_match(client, varied):
    response = client.get("/participants/export.csv", {"q": "chip"})
    rows = b"".join(response.streaming_content).decode().strip().splitlines()
    assert len(rows) == 1 + 7  # the header and every published match, not the window's 3


def test_most_linked_is_exact_against_counting_everyone():
    """The pruned scan gives the same leaders (ties at the edge included) as counting
    every participant's links, over random link sets."""
    rng = random.Random(7)
    for _ in range(200):
        size = rng.randint(1, 60)
        pairs = [(rng.randrange(size), rng.randrange(size)) for _ in range(rng.randint(0, 150))]
        sources, targets = array("q", [a for a, _ in pairs]), array("q", [b for _, b in pairs])
        start, grouped, order = _adjacency(sources, targets, size)
        members = bits_of(rng.sample(range(size), rng.randint(0, size)))
        cap = rng.randint(1, 5)
        counts = {}
        for a, b in pairs:
            if members >> b & 1:
                counts[a] = counts.get(a, 0) + 1
        expected = {}
        if counts:
            edge = sorted(counts.values(), reverse=True)[min(cap, len(counts)) - 1]
            expected = {pk: n for pk, n in counts.items() if n >= edge}
        assert most_linked(order, start, grouped, members, cap) == expected


def test_plane_counts_count_each_position():
    rng = random.Random(11)
    for _ in range(100):
        size = rng.randint(1, 300)
        members = [rng.sample(range(size), rng.randint(0, size)) for _ in range(rng.randint(0, 6))]
        planes = plane_counts(bits_of(m) for m in members)
        everyone = (1 << size) - 1
        for count in range(len(members) + 2):
            expected = [i for i in range(size) if sum(i in m for m in members) == count]
            assert set_bits(everyone & exactly(planes, count), 0, size) == expected


def test_similar_is_the_ranking_of_everyone():
    """The index's similar participants are those of ranking every participant by shared
    segments, shared parent segments, featured, then name order (the index's positions),
    over random directories."""
    rng = random.Random(5)
    for _ in range(200):
        size = rng.randint(1, 80)
        segments = {s: set(rng.sample(range(size), rng.randint(0, size))) for s in range(1, 7)}
        featured = set(rng.sample(range(size), rng.randint(0, size)))
        pks = array("q", rng.sample(range(1, 3 * size + 1), size))  # name order: position i
        positions = array("q", [-1]) * (max(pks) + 1)
        for i, pk in enumerate(pks):
            positions[pk] = i
        index = FacetIndex(
            everyone=(1 << size) - 1,
            featured=bits_of(featured),
            country={},
            kind={},
            open_source={},
            segment={s: bits_of(members) for s, members in segments.items()},
            pks=pks,
            positions=positions,
        )
        me = rng.randrange(size)
        own = [s for s in segments if me in segments[s]]
        others = sorted(set(segments) - set(own))
        parents = rng.sample(others, min(rng.randint(0, 2), len(others))) if own else []
        limit = rng.randint(1, 8)
        ranked = sorted(
            (
                -sum(i in segments[s] for s in own),
                -sum(i in segments[s] for s in parents),
                i not in featured,
                i,
            )
            for i in range(size)
            if i != me
        )
        expected = [pks[i] for shared, nearby, _, i in ranked if shared or nearby][:limit]
        assert index.similar_to(pks[me], own, parents, limit) == expected


@override_settings(SEARCH_WINDOW=3)
def test_the_window_is_taken_without_building_the_filtered_queryset(varied):
    # A listing in relevance order needs only the window's ids; the queryset filtered to
    # them (the export's, the API's, another order's) is built on demand.
    filterset = ParticipantFilter(QueryDict("q=chip"), queryset=Participant.objects.published())
    assert len(filterset.search_ids) == 3 and filterset.search_truncated
    assert filterset.ranked_ids == filterset.search_ids
    assert "_ordered_qs" not in vars(filterset)
    # Built, it holds the window's participants, here in the order asked for.
    ordered = ParticipantFilter(QueryDict("q=chip&ordering=-name"), queryset=Participant.objects.published())
    assert ordered.ranked_ids is None
    names = list(ordered.qs.values_list("name_en", flat=True))
    assert sorted(ordered.qs.values_list("pk", flat=True)) == sorted(ordered.search_ids)
    assert names == sorted(names, reverse=True)


def _another_process():
    """What a second server process holds: nothing of its own yet."""
    caching._process_copy.clear()


@override_settings(COUNT_CACHE_SECONDS=3600, SHARE_INDEXES=True)
def test_a_process_takes_the_indexes_another_built_for_this_generation(varied, django_assert_num_queries):
    make_participant("supplier-x", ("cloud-compute",))  # a supplier of beta, linked below
    Relationship.objects.create(
        supplier=Participant.objects.get(slug="supplier-x"),
        customer=Participant.objects.get(slug="beta"),
        kind="compute",
    )
    caching.bump_generation()
    _another_process()
    with django_assert_num_queries(3):  # the first process builds both: 2 + 1 queries
        index = facet_index()
        links = link_index(index)
    _another_process()
    with django_assert_num_queries(0):  # the next one takes both from the cache
        shared = facet_index()
        assert link_index(shared) == links
    assert shared.pks == index.pks and shared.segment == index.segment and shared.build_id == index.build_id
    # After a change, a copy of the generation before is never taken.
    caching.bump_generation()
    _another_process()
    with django_assert_num_queries(3):
        facet_index()
        link_index(facet_index())


@override_settings(COUNT_CACHE_SECONDS=3600, SHARE_INDEXES=True)
def test_link_arrays_are_taken_only_with_the_index_they_are_numbered_by(varied, django_assert_num_queries):
    caching.bump_generation()
    _another_process()
    link_index(facet_index())
    # A process that built its own index in the same generation (a change committed while
    # the two built theirs) must not use arrays numbered by the other's.
    _another_process()
    own = build_index()
    with django_assert_num_queries(1):
        link_index(own)


@override_settings(COUNT_CACHE_SECONDS=3600, SHARE_INDEXES=False)
def test_without_a_shared_cache_each_process_builds_its_own(varied, django_assert_num_queries):
    caching.bump_generation()
    _another_process()
    facet_index()
    _another_process()
    with django_assert_num_queries(2):
        facet_index()
    assert cache.get(caching.SHARED_KEY.format("facets")) is None


@override_settings(COUNT_CACHE_SECONDS=3600, SHARE_INDEXES=True)
def test_a_process_waits_for_the_index_another_is_building(varied, django_assert_num_queries):
    caching.bump_generation()
    _another_process()
    built = build_index()
    stamp = (caching.generation(), "")
    key = caching.SHARED_KEY.format("facets")
    building = f"{key}:building:{stamp[0]}:"
    cache.add(building, 1)  # another process is building it

    def other_process_finishes():
        cache.set(key, (stamp, built))
        cache.delete(building)

    timer = threading.Timer(0.1, other_process_finishes)
    timer.start()
    try:
        with django_assert_num_queries(0):  # it waited and took the other's copy
            assert facet_index().build_id == built.build_id
    finally:
        timer.cancel()


@override_settings(COUNT_CACHE_SECONDS=3600, SHARE_INDEXES=True)
def test_a_builder_that_never_finishes_is_waited_for_a_bounded_time(
    varied, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(caching, "SHARED_BUILD_WAIT", 0.05)
    caching.bump_generation()
    _another_process()
    cache.add(f"{caching.SHARED_KEY.format('facets')}:building:{caching.generation()}:", 1)
    with django_assert_num_queries(2):  # waited, then built its own
        facet_index()


@override_settings(COUNT_CACHE_SECONDS=3600, SHARE_INDEXES=True)
def test_a_failed_build_lets_the_next_process_build_at_once(varied):
    caching.bump_generation()
    _another_process()

    def broken():
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        caching.kept_in_process("facets", broken, share=True)
    assert cache.get(f"{caching.SHARED_KEY.format('facets')}:building:{caching.generation()}:") is None
