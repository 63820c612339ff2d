"""The read-replica router (directory/ops/db_router.py) against two real databases on the
local PostgreSQL server: the test database is the primary, and a second database with the
same schema but none of the test's rows stands for a replica. A read that reached the
replica is then seen not to find what was written to the primary."""

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, connections, router
from django.test import override_settings

from chainsite.settings import replica_databases
from directory.models import Participant, Segment, Submission, Tag
from directory.ops import db_router
from tests.conftest import make_participant
from tests.submission_data import new_listing

REPLICA = "replica1"
ROUTED = {
    "DATABASE_ROUTERS": ["directory.ops.db_router.PrimaryReplicaRouter"],
    "REPLICA_DATABASES": [REPLICA],
}


def on_two_databases(test):
    """For tests that read and write: both databases, committed for real (on_commit runs)."""
    test = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])(test)
    return pytest.mark.usefixtures("replica")(test)


def _server(primary):
    """Connection arguments for the server's maintenance database."""
    arguments = {"host": primary["HOST"], "port": primary["PORT"], "user": primary["USER"]}
    arguments.update(password=primary["PASSWORD"], dbname="postgres", autocommit=True)
    return {k: v for k, v in arguments.items() if v}


@pytest.fixture(scope="module")
def replica(django_db_setup, django_db_blocker):
    if connection.vendor != "postgresql":
        pytest.skip("the replica router is tested on PostgreSQL (set DATABASE_URL)")
    primary = connections["default"].settings_dict
    name = f"{primary['NAME']}_replica"
    with django_db_blocker.unblock():
        with psycopg.connect(**_server(primary)) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}"')
            server.execute(f'CREATE DATABASE "{name}"')
        connections.settings[REPLICA] = {**primary, "NAME": name}
        call_command("migrate", database=REPLICA, verbosity=0)
        yield REPLICA
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]
        with psycopg.connect(**_server(primary)) as server:
            server.execute(f'DROP DATABASE "{name}"')


@on_two_databases
def test_reads_go_to_the_replica_and_writes_to_the_primary(client):
    make_participant("only-on-primary", name_en="Only On Primary")
    with override_settings(**ROUTED, REPLICA_LAG_SECONDS=0):
        # A visitor's read finds the replica, which has not got the participant.
        assert client.get("/participants/only-on-primary/").status_code == 404
        Tag.objects.create(slug="written-here", name="Written here")
    assert Tag.objects.using("default").filter(slug="written-here").exists()
    assert not Tag.objects.using(REPLICA).filter(slug="written-here").exists()
    # Without the router the same request reads the primary.
    assert client.get("/participants/only-on-primary/").status_code == 200


@on_two_databases
def test_after_its_first_write_a_request_reads_the_primary():
    make_participant("only-on-primary")
    with override_settings(**ROUTED, REPLICA_LAG_SECONDS=0):
        db_router._reset()  # as at the start of a request
        assert not Participant.objects.filter(slug="only-on-primary").exists()
        Tag.objects.create(slug="a-write", name="A write")
        assert Participant.objects.filter(slug="only-on-primary").exists()
        db_router._reset()


@on_two_databases
def test_a_client_that_just_wrote_reads_the_primary(client):
    # The submission form checks the segments against the database it reads.
    Segment.objects.using(REPLICA).bulk_create(
        [
            s
            for s in Segment.objects.using("default").all()
            if not Segment.objects.using(REPLICA).filter(pk=s.pk)
        ]
    )
    with override_settings(**ROUTED, REPLICA_LAG_SECONDS=30):
        response = client.post("/submit/", new_listing())
        assert response.status_code == 302
        cookie = response.cookies[db_router.COOKIE]
        assert cookie["max-age"] == 30 and cookie["httponly"]
        # The status page right after the submit: read from the primary.
        assert client.get(response["Location"]).status_code == 200
        # Another visitor, without the cookie, reads the replica, which has not got it.
        client.cookies.pop(db_router.COOKIE)
        assert client.get(response["Location"]).status_code == 404
        # Reading writes nothing, so it sets no cookie.
        assert db_router.COOKIE not in client.get("/participants/").cookies
    assert Submission.objects.using("default").count() == 1
    assert Submission.objects.using(REPLICA).count() == 0


@on_two_databases
def test_after_a_change_to_the_directory_every_read_goes_to_the_primary_for_a_while(client):
    make_participant("just-published", name_en="Just Published")  # a new generation
    with override_settings(**ROUTED, REPLICA_LAG_SECONDS=60):
        # What is built for the new generation (indexes, cards) comes from the primary.
        assert client.get("/participants/just-published/").status_code == 200
        assert "Just Published" in client.get("/participants/").content.decode()
    with override_settings(**ROUTED, REPLICA_LAG_SECONDS=0):
        assert client.get("/participants/just-published/").status_code == 404


@on_two_databases
def test_no_replicas_no_cookie(client):
    with override_settings(DATABASE_ROUTERS=[], REPLICA_DATABASES=[]):
        response = client.post("/submit/", new_listing())
    assert response.status_code == 302 and db_router.COOKIE not in response.cookies


def test_migrations_run_on_the_primary_only():
    with override_settings(**ROUTED):
        assert router.allow_migrate("default", "directory")
        assert not router.allow_migrate(REPLICA, "directory")


def test_replica_urls_become_databases_that_tests_mirror_to_the_primary():
    databases = replica_databases(["postgres://reader@db-replica-1:5432/chainsite", "sqlite:///r.db"])
    assert list(databases) == ["replica1", "replica2"]
    first = databases["replica1"]
    assert first["HOST"] == "db-replica-1" and first["NAME"] == "chainsite"
    assert first["TEST"] == {"MIRROR": "default"}
    assert "synchronize_seqscans=off" in first["OPTIONS"]["options"]
    assert databases["replica2"]["OPTIONS"]["timeout"] == 20
