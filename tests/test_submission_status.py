"""/submissions/<token>/: the submitter's private view of what they sent and its fate."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from directory.models import Submission
from tests.conftest import make_participant
from tests.submission_data import correction, new_listing

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def _submit(client, **kwargs):
    response = client.post("/submit/", new_listing(**kwargs))
    assert response.status_code == 302, response.content.decode()
    return response["Location"]


def test_new_listing_status_page_shows_what_was_sent(client, small_chain, django_assert_max_num_queries):
    url = _submit(
        client,
        offerings=[{"segment": "foundation-models", "name": "Kimi k2", "url": "https://kimi.ai/"}],
        suppliers=[("nvidia", "chips")],
        customers=[("zhipu-ai", "partnership")],
    )
    # the submission; segment names of its offerings; names of the linked participants
    with django_assert_max_num_queries(3):
        response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        "Your proposed listing",
        'Status: <span class="status-label">Pending review</span>',
        "Moonshot AI",
        "月之暗面",
        "China (CN)",
        "2023",
        "Partly open source",
        "Builds the Kimi models.",
        "Kimi k2",
        "Foundation models",
        "NVIDIA — supplies chips to — this organisation",
        "This organisation — partner of — Zhipu AI",
        "Li Wei",
        "li.wei@example.org",
        "I work there",
        "Source: our press page.",
    ):
        assert text in body, text
    assert '<a href="https://www.moonshot.cn/" rel="nofollow ugc">' in body
    assert '<a href="https://kimi.ai/" rel="nofollow ugc">' in body
    assert "Reviewed on" not in body


def test_status_page_is_not_for_search_engines_or_caches(client, db):
    response = client.get(_submit(client))
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()
    assert "no-cache" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_correction_status_page_shows_old_and_new_values(client, small_chain, django_assert_max_num_queries):
    response = client.post(
        "/participants/cambricon/suggest/", correction(small_chain["cambricon"], founded="2016", country="CN")
    )
    # the submission with its participant
    with django_assert_max_num_queries(1):
        response = client.get(response["Location"])
    body = response.content.decode()
    assert "Your suggested correction" in body
    assert "Cambricon" in body
    assert '<th scope="row">Founded (year)</th><td></td>\n      <td>2016</td>' in body
    assert "HQ country" not in body  # unchanged fields are not listed


@pytest.mark.parametrize(
    ("status", "shown"),
    [("approved", "Approved"), ("rejected", "Rejected"), ("spam", "Rejected")],
)
def test_reviewed_submission_shows_the_outcome_date_and_reason(client, db, status, shown):
    url = _submit(client)
    Submission.objects.update(
        status=status,
        reviewed_at=timezone.make_aware(dt.datetime(2025, 3, 4, 10, 30)),
        review_reason="Checked against\nthe company register.",
    )
    body = client.get(url).content.decode()
    assert f'<span class="status-label">{shown}</span>' in body
    assert "Spam" not in body
    assert "Reviewed on March 4, 2025" in body
    assert "Checked against<br>the company register." in body


def test_honeypot_spam_shows_as_rejected_without_a_review(client, db):
    body = client.get(_submit(client, phone="bot")).content.decode()
    assert '<span class="status-label">Rejected</span>' in body
    assert "Reviewed on" not in body and "Spam" not in body


def test_correction_of_a_participant_since_deleted_still_shows(client, db):
    target = make_participant("gone")
    url = client.post("/participants/gone/suggest/", correction(target, founded="2001"))["Location"]
    target.delete()
    body = client.get(url).content.decode()
    assert "a participant that is no longer listed" in body


@pytest.mark.parametrize(
    "token",
    ["", "x", "A" * 43, "../admin", "%00", "a" * 500],
)
def test_token_guessing_gives_404(client, db, token):
    real = _submit(client).split("/")[2]
    assert client.get(f"/submissions/{token}/").status_code == 404
    assert client.get(f"/submissions/{real[:-1]}/").status_code == 404
    assert client.get(f"/submissions/{real}x/").status_code == 404
    assert client.get(f"/submissions/{real}/").status_code == 200


def test_xss_in_every_text_field_is_shown_escaped(client, small_chain):
    url = _submit(
        client,
        name_en=XSS,
        name_zh=XSS,
        description_en=XSS,
        description_zh=XSS,
        submitter_name=XSS,
        note=XSS,
        offerings=[
            {"segment": "aigc-tools", "name": XSS, "description": XSS, "url": "https://x.example/?q=<b>"}
        ],
    )
    Submission.objects.update(status="rejected", reviewed_at=timezone.now(), review_reason=XSS)
    body = client.get(url).content.decode()
    assert XSS not in body
    assert "<b>" not in body
    # names (2), descriptions (2), offering name and description, submitter, note, reason
    assert body.count(ESCAPED) == 9
    correction_url = client.post(
        "/participants/nvidia/suggest/", correction(small_chain["nvidia"], name_en=XSS, note=XSS)
    )["Location"]
    body = client.get(correction_url).content.decode()
    assert XSS not in body and body.count(ESCAPED) == 2


def test_xss_in_a_pending_name_is_escaped_in_the_duplicate_hint(client, db):
    _submit(client, name_en=XSS, name_zh="", website="")
    response = client.post("/submit/", new_listing(name_en=XSS, name_zh="", website=""))
    body = response.content.decode()
    assert "a submission for it is already waiting for review" in body
    assert XSS not in body and ESCAPED in body
