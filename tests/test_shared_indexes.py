"""With Redis, the in-memory indexes built after a change are shared by the server's
processes: one builds, the others take its copy (counted in queries), never a copy of
another generation or numbered by another build."""

import threading

import pytest
from django.core.cache import cache
from django.test import override_settings

from directory.catalog import cache as caching
from directory.catalog.bitmap import build_index, chain_index, facet_index
from directory.catalog.criteria import taxonomy
from directory.models import Participant, Relationship

from .conftest import make_participant

pytestmark = pytest.mark.django_db


def _another_process():
    """What a second server process holds: nothing of its own yet."""
    caching.forget_in_process()


@override_settings(COUNT_CACHE_SECONDS=3600, SHARE_INDEXES=True)
def test_a_process_takes_the_indexes_another_built_for_this_generation(varied, django_assert_num_queries):
    make_participant("supplier-x", ("cloud-compute",))  # a supplier of beta, linked below
    Relationship.objects.create(
        supplier=Participant.objects.get(slug="supplier-x"),
        customer=Participant.objects.get(slug="beta"),
        kind="compute",
    )
    caching.start_new_generation()
    _another_process()
    # The first process builds both: the segments and kinds of record, the bitmap index
    # (3), the links.
    with django_assert_num_queries(6):
        index = facet_index()
        links = chain_index(index, taxonomy())
    _another_process()
    with django_assert_num_queries(2):  # the next one takes both from the cache (the segments: 2)
        shared = facet_index()
        assert chain_index(shared, taxonomy()) == links
    assert shared.pks == index.pks and shared.segment == index.segment and shared.build_id == index.build_id
    # After a change, a copy of the generation before is never taken.
    caching.start_new_generation()
    _another_process()
    with django_assert_num_queries(6):
        facet_index()
        chain_index(facet_index(), taxonomy())


@override_settings(COUNT_CACHE_SECONDS=3600, SHARE_INDEXES=True)
def test_link_arrays_are_taken_only_with_the_index_they_are_numbered_by(varied, django_assert_num_queries):
    caching.start_new_generation()
    _another_process()
    chain_index(facet_index(), taxonomy())
    # A process that built its own index in the same generation (a change committed while
    # the two built theirs) must not use arrays numbered by the other's.
    _another_process()
    own = build_index()
    with django_assert_num_queries(3):  # the segments and kinds of record, the links
        chain_index(own, taxonomy())


@override_settings(COUNT_CACHE_SECONDS=3600, SHARE_INDEXES=False)
def test_without_a_shared_cache_each_process_builds_its_own(varied, django_assert_num_queries):
    caching.start_new_generation()
    _another_process()
    facet_index()
    _another_process()
    with django_assert_num_queries(3):
        facet_index()
    assert cache.get(caching.SHARED_KEY.format("facets")) is None


@override_settings(COUNT_CACHE_SECONDS=3600, SHARE_INDEXES=True)
def test_a_process_waits_for_the_index_another_is_building(varied, django_assert_num_queries):
    caching.start_new_generation()
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
    caching.start_new_generation()
    _another_process()
    cache.add(f"{caching.SHARED_KEY.format('facets')}:building:{caching.generation()}:", 1)
    with django_assert_num_queries(3):  # waited, then built its own
        facet_index()


@override_settings(COUNT_CACHE_SECONDS=3600, SHARE_INDEXES=True)
def test_a_failed_build_lets_the_next_process_build_at_once(varied):
    caching.start_new_generation()
    _another_process()

    def broken():
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        caching.kept_in_process("facets", broken, share=True)
    assert cache.get(f"{caching.SHARED_KEY.format('facets')}:building:{caching.generation()}:") is None
