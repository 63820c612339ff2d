"""On PostgreSQL the search runs on the GIN index of the stored vector, Chinese included."""

import pytest
from django.db import connection

from directory.models import Participant
from directory.search import search

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN indexes exist only on PostgreSQL"),
]


@pytest.mark.parametrize("q", ["gpu", "芯片", "寒武纪", '"vector database" -cloud'])
def test_search_uses_the_gin_index(small_chain, q):
    # Without the status condition, so the only index that can serve the query is the
    # search index: this checks that the query's expression matches the index.
    queryset = search(Participant.objects.all(), q).order_by("-search_rank")
    with connection.cursor() as cursor:
        # A handful of test rows would make any planner choose a sequential scan; forbid it
        # to see whether the query *can* use the index, which is what matters at scale.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "participant_search_vector_gin" in plan, plan
