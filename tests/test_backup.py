"""A backup restored into an empty database gives back the same directory and submissions."""

import pytest
from django.core.management import call_command
from django.db import connection

from directory.csvio import iter_csv
from directory.models import Participant, Relationship, Submission
from tests.conftest import make_participant


def _state(client):
    api = client.get("/api/participants/", {"page_size": 100}).json()
    details = [client.get(f"/api/participants/{p['slug']}/").json() for p in api["results"]]
    return (
        api,
        details,
        "".join(iter_csv(Participant.objects.order_by("slug"))),
        list(
            Relationship.objects.order_by("pk").values_list(
                "supplier__slug", "customer__slug", "kind", "evidence"
            )
        ),
        list(
            Submission.objects.order_by("pk").values_list(
                "token", "status", "data", "review_reason", "created_at"
            )
        ),
        list(Participant.history.order_by("history_id").values_list("slug", "history_type", "history_date")),
    )


def _empty_database():
    tables = list(connection.introspection.django_table_names(only_existing=True))
    with connection.constraint_checks_disabled(), connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f'TRUNCATE TABLE "{table}" CASCADE')
            else:
                cursor.execute(f'DELETE FROM "{table}"')  # noqa: S608 (our own table names)


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_into_an_empty_database(tmp_path, capsys, client):
    a = make_participant("nvidia", name_en="NVIDIA", name_zh="英伟达")
    b = make_participant("openai", ("foundation-models",), name_en="OpenAI")
    Relationship.objects.create(supplier=a, customer=b, kind="chips", evidence="2016 DGX-1 delivery")
    Submission.objects.create(
        kind="new", data={"name_en": "New Co"}, submitter_name="Ann", submitter_email="ann@example.com"
    )
    Submission.objects.create(
        kind="correction",
        participant=a,
        data={"founded": 1993},
        status="rejected",
        review_reason="Already right",
        submitter_name="Bo",
        submitter_email="bo@example.com",
    )
    before = _state(client)
    path = tmp_path / "backup.bin"
    call_command("backup", "--output", str(path))
    assert "backup written" in capsys.readouterr().out and path.stat().st_size > 0

    _empty_database()
    assert Participant.objects.count() == 0 and Submission.objects.count() == 0
    call_command("restore", str(path), "--yes")
    assert _state(client) == before


@pytest.mark.django_db
def test_restore_of_a_missing_or_foreign_file_changes_nothing(tmp_path):
    make_participant("keep-me")
    with pytest.raises(Exception, match="does not exist"):
        call_command("restore", str(tmp_path / "nope.dump"), "--yes")
    junk = tmp_path / "junk.dump"
    junk.write_bytes(b"not a backup")
    with pytest.raises(Exception):  # noqa: B017 (pg_restore or sqlite3 each word it their way)
        call_command("restore", str(junk), "--yes")
    assert Participant.objects.filter(slug="keep-me").exists()
