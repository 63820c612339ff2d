"""Cross-site scripting and injection: text anyone can submit is shown escaped on every
page that shows it, stored URLs become links only when they are http(s), and the CSV
exports neutralise spreadsheet formulas.

The participant is made the way real data arrives: through the public /submit/ form and
``approve_submission``; the tag and the supply-link evidence (curator-only fields) are
set as a curator would. Then every public page, the API, the feed, the sitemap, the
status page and the admin are fetched and checked.
"""

import csv
import io
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from directory.csvio import import_participants
from directory.curation.moderation import approve_submission
from directory.models import Offering, Participant, Relationship, Source, Submission, Tag
from tests.conftest import make_participant
from tests.curation import PASSWORD, make_user
from tests.submission_data import new_listing

pytestmark = pytest.mark.django_db

PAYLOAD = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
RAW = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><img src=x']
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
# A valid http(s) URL can still carry markup in its query; it must be escaped in href.
HOSTILE_URL = 'https://evil.example.com/?a="><script>alert(1)</script>'
JS_URL = "javascript:alert(1)"
ADMIN = f"/{settings.ADMIN_URL}"


class _Links(HTMLParser):
    """Collects every URL-valued attribute of a page."""

    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "data"}

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value or "" for name, value in attrs if name in self.URL_ATTRIBUTES]


def assert_safe(body, shown=True, where=""):
    """No payload unescaped, no script-bearing link; and when ``shown`` the payload is
    there, escaped (so the check is not passing because the text is missing)."""
    for raw in RAW:
        assert raw not in body, where
    parser = _Links()
    parser.feed(body)
    for url in parser.urls:
        # Browsers ignore leading whitespace and control characters before the scheme.
        scheme = re.sub(r"^[\x00-\x20]+", "", url).split(":", 1)[0].lower()
        assert scheme not in ("javascript", "data", "vbscript"), (where, url)
    assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", body, re.IGNORECASE), where
    if shown:
        assert ESCAPED in body, where


@pytest.fixture
def hostile(small_chain):
    """A published participant whose every text field carries the payload, made through
    the public form and the curator's approval; returns (participant, submission)."""
    data = new_listing(
        offerings=[
            {
                "segment": "ai-chips",
                "name": f"Offering {PAYLOAD}",
                "description": f"Offering text {PAYLOAD} {JS_URL}",
                "url": HOSTILE_URL,
            }
        ],
        suppliers=[("nvidia", "chips")],
        name_en=f"Evil {PAYLOAD}",
        name_zh=f"邪恶 {PAYLOAD}",
        website=HOSTILE_URL,
        description_en=f"About {PAYLOAD} {JS_URL}",
        description_zh=f"简介 {PAYLOAD}",
        submitter_name=f"Mallory {PAYLOAD}",
        note=f"Note {PAYLOAD}",
        confirm_different="on",
    )
    response = Client().post("/submit/", data, REMOTE_ADDR="198.51.100.66")
    assert response.status_code == 302, response.content.decode()[:2000]
    submission = Submission.objects.get()
    assert response["Location"] == f"/submissions/{submission.token}/"
    participant = approve_submission(submission, by=make_user("curator", superuser=True))
    assert participant.name_en == f"Evil {PAYLOAD}"  # stored exactly as sent
    tag = Tag.objects.create(slug="evil-tag", name=PAYLOAD[:60])
    participant.tags.add(tag)
    Relationship.objects.filter(customer=participant).update(evidence=f"Evidence {PAYLOAD}")
    source = Source.objects.create(
        publisher=f"Pub {PAYLOAD}"[:200].replace("|", "/"),
        title=f"T {PAYLOAD}"[:500].replace("|", "/"),
        url=HOSTILE_URL,
    )
    for link in Relationship.objects.filter(customer=participant):
        link.sources.add(source)
    participant.refresh_from_db()
    return participant, submission


def _bypass_validation(participant):
    """Stored ``javascript:`` URLs as only a write past every validator could leave them
    (a raw SQL fix, an old backup)."""
    Participant.objects.filter(pk=participant.pk).update(website=f" {JS_URL}")
    Offering.objects.filter(participant=participant).update(url="JavaScript:alert(1)")
    Source.objects.filter(relationships__customer=participant).update(url="\tjavascript:alert(1)")


def _public_pages(participant, submission):
    """(url, payload shown?) for every public page that shows the participant."""
    return [
        (participant.get_absolute_url(), True),
        ("/participants/", True),
        ("/participants/?q=Evil", True),
        ("/participants/?segment=ai-chips&country=CN", True),
        ("/segments/ai-chips/", True),
        ("/", True),  # the chain map
        ("/participants/nvidia/", True),  # the customer side of the supply link
        (f"/submissions/{submission.token}/", True),
    ]


def test_public_pages_escape_submitted_text(client, hostile):
    participant, submission = hostile
    for url, shown in _public_pages(participant, submission):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_safe(response.content.decode(), shown, url)
    # The reflected search box: the query itself is hostile.
    response = client.get("/participants/", {"q": PAYLOAD})
    assert_safe(response.content.decode())


def test_http_urls_with_markup_are_links_but_escaped(client, hostile):
    participant, _submission = hostile
    body = client.get(participant.get_absolute_url()).content.decode()
    escaped_url = "https://evil.example.com/?a=&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
    assert f'<a href="{escaped_url}" rel="nofollow noopener">' in body  # website, offering, evidence
    assert body.count(f'href="{escaped_url}"') == 3


def test_javascript_urls_stored_past_validation_are_never_links(client, hostile):
    participant, submission = hostile
    _bypass_validation(participant)
    body = client.get(participant.get_absolute_url()).content.decode()
    assert_safe(body)
    assert f"Offering {PAYLOAD}".replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;") in body
    assert_safe(client.get("/participants/nvidia/").content.decode())
    # The JSON-LD names no javascript: address either.
    assert '"sameAs"' not in body


def test_status_page_shows_a_refused_url_as_text_only(client, hostile):
    _participant, submission = hostile
    submission.data["website"] = JS_URL
    submission.data["offerings"][0]["url"] = JS_URL
    submission.save()
    body = client.get(f"/submissions/{submission.token}/").content.decode()
    assert_safe(body)
    assert f"<td>{JS_URL}</td>" in body and f"· {JS_URL}" in body  # website and offering URL, as text


def test_feed_sitemap_and_api_escape_or_encode(client, hostile):
    participant, _submission = hostile
    feed = client.get("/feed/atom/")
    assert feed.status_code == 200
    assert_safe(feed.content.decode())
    sitemap = client.get("/sitemap.xml")
    assert sitemap.status_code == 200
    assert_safe(sitemap.content.decode(), shown=False)
    assert participant.get_absolute_url() in sitemap.content.decode()
    for url in ("/api/participants/", f"/api/participants/{participant.slug}/"):
        response = client.get(url, HTTP_ACCEPT="application/json")
        assert response.status_code == 200
        # JSON carries the text as it is; the content type keeps browsers from running it.
        assert response["Content-Type"].startswith("application/json")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert PAYLOAD in str(response.json())


def test_csp_blocks_inline_script_even_if_escaping_failed(client, hostile):
    participant, _submission = hostile
    csp = client.get(participant.get_absolute_url())["Content-Security-Policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src


def _admin_client():
    """A curator logged in through the real login form (django-axes guards it)."""
    User.objects.create_superuser("keeper", "keeper@example.com", PASSWORD)
    client = Client()
    response = client.post(
        f"{ADMIN}login/?next={ADMIN}",
        {"username": "keeper", "password": PASSWORD},
        REMOTE_ADDR="192.0.2.10",
    )
    assert response.status_code == 302 and response["Location"] == ADMIN
    return client


def test_admin_pages_escape_submitted_text(hostile):
    participant, submission = hostile
    client = _admin_client()
    pages = [
        f"{ADMIN}directory/participant/",
        f"{ADMIN}directory/participant/?q=Evil",
        f"{ADMIN}directory/participant/{participant.pk}/change/",
        f"{ADMIN}directory/participant/{participant.pk}/history/",
        f"{ADMIN}directory/submission/?status=all",
        f"{ADMIN}directory/submission/{submission.pk}/change/",
        f"{ADMIN}directory/offering/",
        f"{ADMIN}directory/relationship/",
        f"{ADMIN}directory/tag/",
    ]
    for url in pages:
        response = client.get(url, REMOTE_ADDR="192.0.2.10")
        assert response.status_code == 200, url
        assert_safe(response.content.decode(), True, url)
    _bypass_validation(participant)
    pending = Submission.objects.create(kind="new", data={**submission.data, "website": JS_URL})
    for url in (
        f"{ADMIN}directory/participant/{participant.pk}/change/",
        f"{ADMIN}directory/submission/{pending.pk}/change/",
        f"{ADMIN}directory/relationship/",
    ):
        response = client.get(url, REMOTE_ADDR="192.0.2.10")
        assert response.status_code == 200, url
        assert_safe(response.content.decode(), False, url)


@pytest.mark.parametrize("field", ["website", "offerings-0-url"])
@pytest.mark.parametrize(
    "url", [JS_URL, " javascript:alert(1)", "data:text/html,<script>", "ftp://x.example/"]
)
def test_submit_form_refuses_non_http_urls(client, field, url):
    response = client.post("/submit/", new_listing(**{field: url}), REMOTE_ADDR="198.51.100.67")
    assert response.status_code == 200
    assert not Submission.objects.exists()


def test_importer_refuses_javascript_urls():
    text = (
        "name_en,name_zh,segment,website,country,founded,open_source,description_en\n"
        f"Bad Co,,ai-chips,{JS_URL},US,,no,\n"
    )
    report = import_participants(text.encode())
    assert report.errors and not report.written
    assert not Participant.objects.filter(name_en="Bad Co").exists()


def test_admin_refuses_javascript_urls(client):
    participant = make_participant("plainco")
    offering = participant.offerings.get()
    client.force_login(make_user("root", superuser=True))
    form = {
        "name_en": "Plain Co",
        "slug": "plainco",
        "status": "published",
        "website": JS_URL,
        "country": "US",
        "kind": "vendor",
        "open_source": "no",
        "offerings-TOTAL_FORMS": "1",
        "offerings-INITIAL_FORMS": "1",
        "offerings-0-id": str(offering.pk),
        "offerings-0-participant": str(participant.pk),
        "offerings-0-segment": str(offering.segment_id),
        "offerings-0-name": "Offer",
        "offerings-0-url": JS_URL,
        "supplied_by-TOTAL_FORMS": "0",
        "supplied_by-INITIAL_FORMS": "0",
        "supplies-TOTAL_FORMS": "0",
        "supplies-INITIAL_FORMS": "0",
        "records-TOTAL_FORMS": "0",
        "records-INITIAL_FORMS": "0",
    }
    response = client.post(f"{ADMIN}directory/participant/{participant.pk}/change/", form)
    assert response.status_code == 200  # the form again, with errors
    assert "Enter a valid URL." in response.content.decode()
    participant.refresh_from_db()
    offering.refresh_from_db()
    assert participant.website == "https://plainco.example.com/" and offering.url == ""


def test_curator_edited_approval_refuses_javascript_urls(hostile):
    from django.core.exceptions import ValidationError

    _participant, submission = hostile
    pending = Submission.objects.create(kind="new", data=submission.data)
    with pytest.raises(ValidationError):
        approve_submission(pending, by=User.objects.get(), data={**pending.data, "website": JS_URL})
    pending.refresh_from_db()
    assert pending.status == "pending"


FORMULAS = {
    "name_zh": '=HYPERLINK("http://evil.example/","x")',
    "description_en": "+1+cmd|' /C calc'!A0",
    "description_zh": "-2+3",
}


def _formula_participant():
    participant = make_participant("formula-co", name_en="@SUM(1+1)", **FORMULAS)
    Tag.objects.create(slug="formula", name="=1+1")
    participant.tags.add(Tag.objects.get(slug="formula"))
    return participant


def _assert_neutralised(text):
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) >= 2
    cells = [cell for row in rows[1:] for cell in row]
    assert "'@SUM(1+1)" in cells and "'-2+3" in cells
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_public_csv_export_neutralises_formulas(client):
    _formula_participant()
    response = client.get("/participants/export.csv")
    assert response.status_code == 200
    _assert_neutralised(b"".join(response.streaming_content).decode())


def test_admin_csv_export_neutralises_formulas(client):
    participant = _formula_participant()
    client.force_login(make_user("root", superuser=True))
    response = client.post(
        f"{ADMIN}directory/participant/",
        {"action": "export_csv", "_selected_action": [str(participant.pk)]},
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    _assert_neutralised(b"".join(response.streaming_content).decode())
