"""The in-memory index's own algorithms (directory/catalog/bitmap.py) against counting
one by one: bitsets, pages read off them, bit-plane counts, the most-linked scan and the
similar-participants ranking."""

import random
from array import array

from directory.catalog.bitmap import (
    FacetIndex,
    bits_of,
    build_index,
    exactly,
    plane_counts,
    set_bits,
)
from directory.models import Participant, Segment


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


def test_bits_of_sets_exactly_the_given_positions():
    for pks in ([], [0], [7, 8, 9], [1, 64, 1000, 99_999]):
        bits = bits_of(pks)
        assert bits.bit_count() == len(pks)
        assert all(bits >> pk & 1 for pk in pks)


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
