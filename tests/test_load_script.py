"""bench/load.py: refuses targets off this machine, and a short run against a live server
reports its figures and finds every accepted submission exactly once."""

import importlib.util
import json

import pytest
from django.conf import settings as django_settings

from directory.catalog import cache as caching
from directory.models import Participant, Submission
from tests.conftest import make_chain

_spec = importlib.util.spec_from_file_location("load", django_settings.BASE_DIR / "bench" / "load.py")
load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(load)


@pytest.mark.parametrize(
    "url", ["http://192.0.2.1:8000", "http://[2001:db8::1]/", "ftp://127.0.0.1/", "127.0.0.1"]
)
def test_refuses_targets_that_are_not_loopback(url):
    with pytest.raises(SystemExit):
        load.loopback_only(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/", "http://localhost:8000", "http://[::1]:8000"])
def test_accepts_loopback(url):
    assert load.loopback_only(url) == url.rstrip("/")


@pytest.mark.django_db(transaction=True)
def test_short_run_reports_and_verifies_submissions(live_server, settings, tmp_path, monkeypatch):
    # More submissions than the real mix, so a three-second run surely sends some.
    monkeypatch.setattr(
        load, "MIX", [("browse", 30), ("search", 15), ("detail", 15), ("api", 15), ("submit", 25)]
    )
    settings.SUBMISSION_RATE_LIMIT = 100_000
    settings.API_THROTTLE_RATE = None
    make_chain(12)
    out = tmp_path / "load.json"
    status = load.main(
        ["--base-url", live_server.url, "--clients", "3", "--duration", "3", "--seed", "7", "--verify-db"]
        + ["--json", str(out)]
    )
    report = json.loads(out.read_text())
    assert status == 0, report
    assert report["requests"] > 10 and report["errors"] == 0
    assert set(report["by_category"]) <= {"browse", "search", "detail", "api", "submit"}
    assert report["submissions_accepted"] > 0
    assert report["submissions_missing_status_page"] == report["submissions_not_stored_exactly_once"] == 0
    assert Submission.objects.count() == report["submissions_accepted"]


@pytest.mark.django_db(transaction=True)
def test_a_curator_publishes_during_the_run_and_visitors_see_no_error(live_server, settings, tmp_path):
    settings.API_THROTTLE_RATE = None
    make_chain(12)
    before = caching.generation()
    out = tmp_path / "load.json"
    status = load.main(
        ["--base-url", live_server.url, "--clients", "2", "--duration", "2.5", "--seed", "3"]
        + ["--publish-every", "0.5", "--json", str(out)]
    )
    report = json.loads(out.read_text())
    assert status == 0 and report["errors"] == 0, report
    assert report["publish_every_s"] == 0.5 and report["publishes"] >= 3
    # Each save is a real change: a history row with its reason, and a new generation.
    saved = Participant.history.filter(history_change_reason__startswith="load run")
    assert saved.count() == report["publishes"]
    assert caching.generation() != before


def test_refuses_a_negative_publishing_interval():
    with pytest.raises(SystemExit):
        load.main(["--base-url", "http://127.0.0.1:9", "--publish-every", "-1"])
