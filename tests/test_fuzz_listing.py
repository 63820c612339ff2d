"""Hostile query strings, generated: the listing, a segment page, the CSV export and the
API list never answer 5xx nor raise, whatever their parameters hold.

Values are percent-encoded by hand so the query string itself can carry anything a client
can send: invalid UTF-8 (``%ff%fe``), NUL, control characters, right-to-left marks,
100 kB values, SQL and HTML fragments, repeated and unknown parameters. Each target runs
``EXAMPLES`` examples (HYPOTHESIS_PROFILE=thorough raises it).
"""

import os
from contextlib import contextmanager
from urllib.parse import quote, quote_from_bytes

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directory.models import Participant
from tests.conftest import make_participant

EXAMPLES = 1000 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 60
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

PARAMETERS = ["q", "tier", "segment", "kind", "country", "open_source", "ordering", "page", "page_size"]
# Already percent-encoded fragments: what a hand-made or malicious URL can hold.
RAW = [
    "%ff%fe",
    "%c3%28",  # an invalid two-byte sequence
    "%ed%a0%80",  # a UTF-8-encoded surrogate
    "%00",
    "%",
    "%zz",
    "%E2%80%AE",  # right-to-left override
    "%E2%80%8F",
    "%0d%0a",
    "%1b%5b31m",
    "a%00b",
]
NASTY = [
    "\x00",
    "\u202e" + "evil",
    "\u200f",
    "\ufeff",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR 1=1 --",
    "'; DROP TABLE directory_participant; --",
    "1) UNION SELECT password FROM auth_user --",
    "%' AND 1=1 AND '%'='",
    "\\",
    "ai-chips",
    "upstream",
    "CN",
    "cn",
    "-founded",
    "-updated",
    "true",
    "0",
    "-1",
    "99999999999999999999999",
    "1e3",
    "٣",  # an Arabic-Indic digit: int() accepts it
    "²",
    "NaN",
    "芯片",
    "a" * 100_000,
    "芯" * 35_000,
]


def _encoded(text):
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


values = st.one_of(
    st.text(max_size=200).map(_encoded),
    st.binary(max_size=60).map(lambda b: quote_from_bytes(b, safe="")),
    st.sampled_from(NASTY).map(_encoded),
    st.sampled_from(RAW),
    st.tuples(st.sampled_from(RAW), st.text(max_size=20)).map(lambda t: t[0] + _encoded(t[1])),
)
names = st.one_of(
    st.sampled_from(PARAMETERS).map(_encoded),
    st.sampled_from(["segment"]),  # repeated more often than the others
    st.text(max_size=20).map(_encoded),
    st.sampled_from(RAW),
)
query_strings = st.lists(st.tuples(names, values), min_size=1, max_size=8).map(
    lambda pairs: "&".join(f"{name}={value}" for name, value in pairs)
)


@contextmanager
def isolated():
    """One example in its own savepoint (a database error would otherwise poison the
    rest of the run on PostgreSQL) with an empty cache (the API throttle counts)."""
    cache.clear()
    with transaction.atomic():
        try:
            yield
        finally:
            transaction.set_rollback(True)


@pytest.fixture
def directory(small_chain):
    make_participant(
        "hostile-co",
        ("ai-chips", "foundation-models"),
        name_en="Hostile <b>Co</b> ' OR 1=1 --",
        name_zh="敌意\u202e公司",
        country="CN",
        open_source="partly",
    )
    return Participant.objects.count()


def _get(path, query):
    # Client(raise_request_exception=True): an exception in a view fails the test with
    # its traceback rather than turning into a 500 response.
    return Client(raise_request_exception=True).get(f"{path}?{query}")


@pytest.mark.django_db
@FUZZ
@given(query=query_strings)
def test_listing_never_fails(directory, query):
    with isolated():
        response = _get("/participants/", query)
        assert response.status_code in (200, 400), response.status_code
        if response.status_code == 200:
            assert b"</html>" in response.content


@pytest.mark.django_db
@FUZZ
@given(query=query_strings)
def test_segment_page_never_fails(directory, query):
    with isolated():
        response = _get("/segments/ai-chips/", query)
        assert response.status_code in (200, 400), response.status_code
        if response.status_code == 200:
            assert b"</html>" in response.content


@pytest.mark.django_db
@FUZZ
@given(query=query_strings)
def test_csv_export_never_fails(directory, query):
    with isolated():
        response = _get("/participants/export.csv", query)
        assert response.status_code in (200, 400), response.status_code
        if response.status_code == 200:
            # The body streams from a database cursor, so reading it runs the query. The
            # fixture's few rows fit in the cursor's first chunk; reading to the end lets
            # the test client's wrapper end the request properly (closing the response
            # directly would close the test's database connection, inside its transaction).
            body = b"".join(response.streaming_content)
            assert body.startswith(b"name_en,")
            assert body.count(b"\n") <= directory + 1


@pytest.mark.django_db
@FUZZ
@given(query=query_strings)
def test_api_list_never_fails(directory, query):
    with isolated():
        response = _get("/api/participants/", query)
        assert response.status_code < 500, response.status_code
        assert response["Content-Type"].startswith("application/json")
        body = response.json()
        if response.status_code == 200:
            assert body["count"] <= directory and len(body["results"]) <= body["count"]
