"""Concurrent submissions: fifty people sending the form at the same moment, each from
their own address, all get their submission stored exactly once.

The requests go through the whole WSGI stack in-process, one thread (and so one database
connection) per client, released together by a barrier. Concurrent approvals of one
submission are in tests/test_services.py.
"""

import threading

import pytest
from django.db import connection
from django.test import Client

from directory.models import Participant, Submission
from tests.submission_data import new_listing

CLIENTS = 50


def _submit(i, barrier, results):
    try:
        client = Client(raise_request_exception=False)
        data = new_listing(
            name_en=f"Concurrent Co {i}",
            name_zh=f"并发公司{i}",
            website=f"https://concurrent-{i}.example.com/",
            submitter_email=f"person{i}@example.org",
        )
        barrier.wait(timeout=30)
        response = client.post("/submit/", data, REMOTE_ADDR=f"198.51.100.{i + 1}")
        results[i] = (response.status_code, response.get("Location", ""))
    except Exception as exc:  # noqa: BLE001 (reported by the test below)
        results[i] = ("exception", repr(exc))
    finally:
        connection.close()  # each thread has its own connection; the test database must drop


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_submissions_each_persist_exactly_once():
    barrier = threading.Barrier(CLIENTS)
    results = [None] * CLIENTS
    threads = [threading.Thread(target=_submit, args=(i, barrier, results)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    assert [status for status, _ in results] == [302] * CLIENTS, results
    tokens = [location.split("/")[2] for _, location in results]
    assert all(
        location == f"/submissions/{token}/" for token, (_, location) in zip(tokens, results, strict=True)
    )
    assert len(set(tokens)) == CLIENTS
    stored = Submission.objects.filter(token__in=tokens)
    assert stored.count() == CLIENTS == Submission.objects.count()  # each once, nothing else
    by_token = {s.token: s for s in stored}
    for i, token in enumerate(tokens):
        submission = by_token[token]
        assert submission.data["name_en"] == f"Concurrent Co {i}"
        assert submission.ip_address == f"198.51.100.{i + 1}"
        assert submission.status == "pending"
    assert not Participant.objects.exists()  # nothing is published without a curator
