"""generate_synthetic adds clearly marked benchmark data and --clear removes only it."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count

from directory.catalog.search import matches
from directory.models import Offering, Participant, Relationship

pytestmark = pytest.mark.django_db


def _real_snapshot():
    return (
        list(Participant.objects.real().order_by("pk").values_list("slug", "name_en", "updated_at")),
        list(Offering.objects.filter(participant__is_synthetic=False).values_list("pk", "name")),
        list(Relationship.objects.values_list("pk", "supplier_id", "customer_id")),
    )


def test_generate_then_clear_leaves_real_data_untouched(small_chain, capsys):
    before = _real_snapshot()
    call_command("generate_synthetic", "--participants", "120", "--batch-size", "50")
    out = capsys.readouterr().out
    assert "120/120 participants" in out and "created 120 synthetic participants" in out
    synthetic = Participant.objects.filter(is_synthetic=True)
    assert synthetic.count() == 120
    assert all(p.slug.startswith("syn-") and p.website.endswith(".example.com/") for p in synthetic)
    assert not synthetic.exclude(tags__slug="synthetic").exists()
    counts = synthetic.annotate(n=Count("offerings")).values_list("n", flat=True)
    assert min(counts) >= 1 and max(counts) <= 4
    links = Relationship.objects.filter(supplier__is_synthetic=True)
    assert links.count() > 60
    assert not links.filter(customer__is_synthetic=False).exists()  # never linked to real data
    # Real-looking text, so search has work to do, in both languages.
    assert (
        matches(Participant.objects.filter(is_synthetic=True), "数据").exists()
        or matches(Participant.objects.filter(is_synthetic=True), "数据服务").exists()
    )
    assert _real_snapshot()[0] == before[0]

    call_command("generate_synthetic", "--clear")
    assert not Participant.objects.filter(is_synthetic=True).exists()
    assert _real_snapshot() == before


def test_second_run_continues_numbering():
    call_command("generate_synthetic", "--participants", "5")
    call_command("generate_synthetic", "--participants", "5")
    assert Participant.objects.filter(is_synthetic=True).count() == 10
    assert Participant.objects.filter(slug="syn-0000010").exists()


def test_bad_arguments_are_refused():
    with pytest.raises(CommandError, match="give --participants N"):
        call_command("generate_synthetic")
    with pytest.raises(CommandError, match="must be >= 0"):
        call_command("generate_synthetic", "--participants", "-3")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="VACUUM FULL is PostgreSQL's")
def test_clear_leaves_the_tables_compact_on_postgresql(small_chain):
    """The deleted rows' pages leave the tables (a search window reads a table in order)."""

    def pages():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_relation_size('directory_participant'), pg_relation_size('directory_offering')"
            )
            return cursor.fetchone()

    call_command("generate_synthetic", "--participants", "300")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM directory_participant, directory_offering")  # pages as they are
    grown = pages()
    call_command("generate_synthetic", "--clear")
    compact = pages()
    assert compact[0] < grown[0] / 4 and compact[1] < grown[1] / 4, (grown, compact)
    assert Participant.objects.count() == 5  # the real data is still there
