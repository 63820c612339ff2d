"""On PostgreSQL the search runs on the GIN index of the stored vector, Chinese included."""

import secrets

import pytest
from django.db import connection
from django.http import QueryDict

from directory import catalog
from directory.catalog.bitmap import index_rows
from directory.catalog.criteria import ORDERINGS, taxonomy
from directory.catalog.search import matches, refresh_search_index, suggestions
from directory.catalog.sql import SqlBackend
from directory.models import Participant

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN indexes exist only on PostgreSQL"),
]


@pytest.mark.parametrize("q", ["gpu", "芯片", "寒武纪", '"vector database" -cloud'])
def test_search_uses_the_gin_index(small_chain, q):
    # Without the status condition, so the only index that can serve the query is the
    # search index: this checks that the query's expression matches the index.
    queryset = matches(Participant.objects.all(), q)
    with connection.cursor() as cursor:
        # A handful of test rows would make any planner choose a sequential scan; forbid it
        # to see whether the query *can* use the index, which is what matters at scale.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "participant_search_vector_gin" in plan, plan


def test_search_window_uses_the_gin_index(small_chain):
    # The window's own query (ids and ranks, no order); without the status condition, as
    # above, so only the search index can serve it.
    window = matches(Participant.objects.all(), "芯片")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = window[:1001].explain()
    assert "participant_search_vector_gin" in plan, plan


def test_the_window_is_taken_in_a_stable_table_order():
    """The search window is the first matches in table order: the same order every time
    needs no synchronised scans and no parallel workers (settings.py)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronize_seqscans")
        assert cursor.fetchone() == ("off",)
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone() == ("0",)


def test_a_country_listing_reads_its_matches_in_name_order_from_an_index(small_chain):
    criteria = catalog.Criteria.parse(QueryDict("country=CN"))
    page = SqlBackend().filtered(criteria, taxonomy()).order_by(*ORDERINGS["name"].fields)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        # Without statistics of a few test rows, the name-ordered index the bitmap index
        # reads (all countries, filtered) costs the same; at scale the country's own
        # index wins. Dropped inside the test's transaction, so only until its rollback.
        cursor.execute("DROP INDEX participant_status_name_facets")
        plan = page[:20].explain()
    assert "participant_country_name" in plan, plan


def test_the_bitmap_index_reads_its_rows_in_order_from_an_index_alone(small_chain):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        plan = index_rows().explain()
    assert "Index Only Scan using participant_status_name_facets" in plan, plan
    assert "Sort" not in plan, plan


def test_a_participants_search_vector_stays_in_its_row():
    # About 3 kB of text that does not compress (as a real row of 2-3 kB is after the
    # search columns repeat it): PostgreSQL's default would move the largest values to
    # the TOAST table, which the search window would then read for every row it checks.
    words = " ".join(f"w{secrets.token_hex(3)}" for _ in range(100))
    participant = Participant.objects.create(slug="wordy", name_en="Wordy", description_en=words)
    refresh_search_index([participant.pk])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_size(p.*), pg_relation_size(c.reltoastrelid) FROM directory_participant p, "
            "pg_class c WHERE c.relname = 'directory_participant' AND p.id = %s",
            [participant.pk],
        )
        row_size, toasted = cursor.fetchone()
    assert row_size > 2500 and toasted == 0


def test_name_suggestions_use_the_trigram_index(small_chain):
    assert [slug for slug, *_ in suggestions(Participant.objects.published(), "NVIDA")] == ["nvidia"]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = Participant.objects.filter(search_names__trigram_word_similar="nvida").explain()
    assert "participant_search_names_trgm" in plan, plan
