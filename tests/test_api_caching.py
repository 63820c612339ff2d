"""HTTP caching (Cache-Control, ETag, 304) and rate limiting (429, Retry-After) of the API."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings

from directory.models import Relationship

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/segments/", "/api/participants/?segment=ai-chips", "/api/participants/nvidia/"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_conditional_get_answers_304(client, small_chain, path):
    first = client.get(path)
    assert first.status_code == 200
    assert first["Cache-Control"] == "public, max-age=60"
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert client.get(path)["ETag"] == etag  # stable while nothing changes

    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag and again["Cache-Control"] == "public, max-age=60"

    assert client.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200
    assert client.get(path, headers={"If-None-Match": f'"other", {etag}'}).status_code == 304
    assert client.head(path, headers={"If-None-Match": etag}).status_code == 304


def test_etag_changes_when_what_the_answer_shows_changes(client, small_chain):
    """A new supply link changes nvidia's page without touching nvidia.updated_at; the
    ETag, computed from the answer itself, changes with it."""
    before = client.get("/api/participants/nvidia/")["ETag"]
    updated_at = small_chain["nvidia"].updated_at
    Relationship.objects.create(supplier=small_chain["nvidia"], customer=small_chain["zhipu"], kind="chips")
    small_chain["nvidia"].refresh_from_db()
    assert small_chain["nvidia"].updated_at == updated_at

    response = client.get("/api/participants/nvidia/", headers={"If-None-Match": before})
    assert response.status_code == 200
    assert response["ETag"] != before
    assert [c["participant"] for c in response.json()["customers"]] == ["azure", "zhipu-ai"]


def test_errors_are_not_cacheable(client, small_chain):
    for path in ("/api/participants/nobody/", "/api/participants/?page_size=7"):
        response = client.get(path)
        assert response.status_code in (400, 404)
        assert "ETag" not in response and "Cache-Control" not in response


@override_settings(API_THROTTLE_RATE="3/min")
def test_too_many_requests_get_a_429_with_retry_after(client, small_chain):
    for path in ("/api/participants/", "/api/segments/", "/api/participants/nvidia/"):
        assert client.get(path).status_code == 200
    response = client.get("/api/participants/")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["detail"].startswith("Request was throttled.")
    assert "Cache-Control" not in response
    # Counted per client address: another client still gets through.
    assert client.get("/api/participants/", REMOTE_ADDR="203.0.113.9").status_code == 200


@override_settings(API_THROTTLE_RATE=None)
def test_throttling_can_be_turned_off(client, small_chain):
    for _ in range(10):
        assert client.get("/api/segments/").status_code == 200


@pytest.mark.parametrize(("value", "ok"), [("", True), ("30/min", True), ("off", True), ("lots", False)])
def test_throttle_rate_comes_from_the_environment(value, ok):
    env = {**os.environ, "API_THROTTLE_RATE": value, "DJANGO_SETTINGS_MODULE": "chainsite.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.API_THROTTLE_RATE)"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if ok:
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == {"": "120/min", "30/min": "30/min", "off": "None"}[value]
    else:
        assert "API_THROTTLE_RATE must look like" in result.stderr
