"""The OpenAPI description at /api/schema/, the documentation page at /api/docs/, and a
property-based run (schemathesis) of every operation against the description."""

import json

import hypothesis
import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from directory.catalog.criteria import FILTERS
from directory.models import Relationship, Source, Tag
from tests.conftest import make_participant

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 50


@pytest.fixture
def openapi(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi+json"
    return json.loads(response.content)


def test_schema_is_openapi_3_with_every_endpoint(openapi):
    assert openapi["openapi"].startswith("3.")
    assert set(openapi["paths"]) == {
        "/api/segments/",
        "/api/participants/",
        "/api/participants/{slug}/",
        "/api/participants/{slug}/graph/",
        "/api/relationships/",
        "/api/flows/",
        "/api/records/",
    }
    assert all(set(operations) == {"get"} for operations in openapi["paths"].values())


def test_every_filter_parameter_is_documented(openapi):
    parameters = {p["name"]: p for p in openapi["paths"]["/api/participants/"]["get"]["parameters"]}
    # In step with the catalog's filters: a filter added there is documented here.
    assert set(parameters) == {*(f.name for f in FILTERS), "ordering", "page", "page_size"}
    assert set(parameters) == {
        "q",
        "tier",
        "segment",
        "kind",
        "country",
        "open_source",
        "record",
        "ordering",
        "page",
        "page_size",
    }
    for name, parameter in parameters.items():
        assert parameter["in"] == "query" and len(parameter["description"]) > 15, name
    assert parameters["segment"]["schema"]["type"] == "array" and parameters["segment"]["explode"] is True
    assert parameters["tier"]["schema"]["enum"] == ["upstream", "midstream", "downstream", ""]
    assert parameters["open_source"]["schema"]["enum"] == ["yes", "partly", "no", "true", "false", ""]
    assert parameters["ordering"]["schema"]["enum"] == [
        "name",
        "-name",
        "founded",
        "-founded",
        "-updated",
        "relevance",
        "",
    ]
    assert "CN" in parameters["country"]["schema"]["enum"]
    assert parameters["page_size"]["schema"] == {
        "type": "integer",
        "minimum": 20,
        "maximum": 100,
        "default": 20,
    }
    assert parameters["q"]["schema"]["maxLength"] == 200
    responses = openapi["paths"]["/api/participants/"]["get"]["responses"]
    assert set(responses) == {"200", "304", "400", "404", "429"}


def test_docs_page_is_served_from_our_own_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "http://" not in page.replace("http://testserver", "") and "https://" not in page
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        url = f"/static/drf_spectacular_sidecar/swagger-ui-dist/{asset}"
        assert url in page
        assert finders.find(url.removeprefix("/static/")), asset
    # The set-up script is a separate file (no inline script), and it points at our schema.
    assert "<script>" not in page
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200 and "/api/schema/" in script.content.decode()


@pytest.fixture
def api_data(small_chain):
    """Enough data that generated requests find participants, pages and links."""
    small_chain["nvidia"].tags.add(Tag.objects.create(slug="gpu", name="GPU"))
    make_participant("draft-co", status="draft")
    link = Relationship.objects.create(
        supplier=small_chain["openai"], customer=small_chain["zhipu"], kind="partnership"
    )
    link.sources.add(Source.objects.create(publisher="X", title="Y", published="2024", url="https://x.test/"))
    for i in range(25):
        make_participant(f"filler-{i:02}", ("aigc-tools",), country="CN", founded=2000 + i)


@pytest.fixture
def no_throttle():
    with override_settings(API_THROTTLE_RATE=None):
        yield


@pytest.fixture
def keep_connection():
    """Requests made straight through a WSGIHandler end by closing "old" database
    connections, which would close the test's own (inside its transaction) on PostgreSQL;
    the test client avoids this the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# The description as the app serves it, called in-process through WSGI (same thread, so
# each test's database transaction is visible). Loaded at import: schemathesis's lazy
# ``from_fixture`` loader does not work with pytest 9 (it sets ``Node._nodeid``).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())

SEGMENTS = ["ai-chips", "cloud-compute", "foundation-models", "aigc-tools", "knowledge-base"]
PARTICIPANTS = ["nvidia", "azure", "openai", "zhipu-ai", "filler-03", "draft-co"]


@schema.hook
def flatmap_query(context, query):
    """Random segment slugs only ever get the 400; half the cases with ``segment`` use
    real slugs instead, so valid combinations reach the filters and the serializer."""
    if not query or not query.get("segment"):
        return st.just(query)
    real = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3)
    return st.one_of(st.just(query), real.map(lambda slugs: {**query, "segment": slugs}))


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Likewise, half the participant slugs are ones that exist (published or not)."""
    if not path_parameters or "slug" not in path_parameters:
        return st.just(path_parameters)
    return st.one_of(st.just(path_parameters), st.sampled_from(PARTICIPANTS).map(lambda slug: {"slug": slug}))


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_generated_requests_never_fail_and_match_the_schema(case, api_data, no_throttle, keep_connection):
    """Up to MAX_EXAMPLES generated requests per operation (any documented parameter,
    valid or not), after schemathesis's boundary-value cases: never a 5xx; every answer's
    status, content type and body are the ones the description promises; and whatever
    the description rules out is refused with a 4xx."""
    case.call_and_validate(checks=CHECKS)


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/segments/", {}),
        ("/api/participants/", {"page_size": 20, "page": 2}),
        ("/api/participants/", {"segment": ["ai-chips", "foundation-models"], "country": "cn"}),
        ("/api/participants/{slug}/", {}),
    ],
)
def test_real_answers_match_the_schema(api_data, no_throttle, keep_connection, path, query):
    """The answers for existing data (which random slugs rarely hit) match the description too."""
    operation = schema[path]["GET"]
    case = operation.Case(path_parameters={"slug": "openai"} if "{slug}" in path else None, query=query)
    response = case.call_and_validate(checks=CHECKS)
    assert response.status_code == 200
