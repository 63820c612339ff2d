"""/submit/: a new listing is stored as one pending submission and nothing is published."""

import logging
import re
import smtplib

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client, override_settings

from directory.models import Offering, Participant, Relationship, Submission
from directory.web.submission_limit import HONEYPOT_COUNTER
from tests.conftest import make_participant
from tests.submission_data import new_listing

pytestmark = pytest.mark.django_db

# Model.full_clean() probes each CHECK constraint whose fields are on the form in its
# own savepoint: savepoint + SELECT + release = 3 statements per constraint.
PARTICIPANT_CHECKS = 5 * 3  # founded range, country code, kind, open_source, has a name
SUBMISSION_CHECKS = 1 * 3  # submitter_relation


class FailingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("connection refused")


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def _participants_snapshot():
    return list(Participant.objects.order_by("pk").values())


def test_form_renders_with_the_contract_field_names(client, small_chain, django_assert_max_num_queries):
    # segments for the offering rows; published participants for the slug datalist
    with django_assert_max_num_queries(2):
        response = client.get("/submit/")
    assert response.status_code == 200
    body = response.content.decode()
    for name in (
        "name_en",
        "name_zh",
        "website",
        "country",
        "founded",
        "open_source",
        "description_en",
        "description_zh",
        "kind",
        "submitter_name",
        "submitter_email",
        "submitter_relation",
        "note",
        "offerings-TOTAL_FORMS",
        "offerings-0-segment",
        "offerings-0-name",
        "offerings-0-description",
        "offerings-0-url",
        "suppliers-0-participant",
        "customers-0-kind",
    ):
        assert f'name="{name}"' in body, name
    assert "csrfmiddlewaretoken" in body
    assert '<option value="nvidia">' in body
    assert 'href="/submit/"' in body  # the "Add a listing" link in the header


def test_new_listing_is_stored_as_one_pending_submission(client, small_chain, django_assert_max_num_queries):
    before = _participants_snapshot()
    offerings_before, links_before = Offering.objects.count(), Relationship.objects.count()
    post = new_listing(
        offerings=[
            {"segment": "foundation-models", "name": "Kimi", "description": "Long\r\ncontext.", "url": ""},
            {"segment": "aigc-tools", "name": "Kimi Chat", "url": "https://kimi.ai/"},
        ],
        suppliers=[("nvidia", "chips"), ("azure", "compute")],
        customers=[("zhipu-ai", "partnership")],
    )
    # segments; duplicate candidates (participants, pending submissions); the
    # participant and relation CHECK probes; one FK probe per offering's segment; the
    # two link formsets' published-slug lookups; INSERT in a savepoint
    with django_assert_max_num_queries(3 + PARTICIPANT_CHECKS + 2 + 2 + SUBMISSION_CHECKS + 3):
        response = client.post("/submit/", post, REMOTE_ADDR="203.0.113.7")
    submission = Submission.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/submissions/{submission.token}/"
    assert len(submission.token) >= 43  # 256 random bits, URL-safe
    assert submission.kind == "new" and submission.status == "pending"
    assert submission.participant is None
    assert submission.data == {
        "name_en": "Moonshot AI",
        "name_zh": "月之暗面",
        "website": "https://www.moonshot.cn/",
        "country": "CN",
        "founded": 2023,
        "open_source": "partly",
        "description_en": "Builds the Kimi models.",
        "description_zh": "开发 Kimi 大模型。",
        "kind": "vendor",
        "offerings": [
            {"segment": "foundation-models", "name": "Kimi", "description": "Long\ncontext.", "url": ""},
            {"segment": "aigc-tools", "name": "Kimi Chat", "description": "", "url": "https://kimi.ai/"},
        ],
        "suppliers": [
            {"participant": "nvidia", "kind": "chips"},
            {"participant": "azure", "kind": "compute"},
        ],
        "customers": [{"participant": "zhipu-ai", "kind": "partnership"}],
        "confirmed_different": False,
    }
    assert submission.original == {}
    assert (submission.submitter_name, submission.submitter_email, submission.submitter_relation) == (
        "Li Wei",
        "li.wei@example.org",
        "employee",
    )
    assert submission.note == "Source: our press page."
    assert submission.ip_address == "203.0.113.7"
    # Nothing is published: the directory is exactly as it was.
    assert _participants_snapshot() == before
    assert Offering.objects.count() == offerings_before and Relationship.objects.count() == links_before


def test_a_script_may_leave_out_the_optional_link_formsets(client, db):
    post = {k: v for k, v in new_listing().items() if not k.startswith(("suppliers-", "customers-"))}
    response = client.post("/submit/", post)
    assert response.status_code == 302
    assert Submission.objects.get().data["suppliers"] == []


def test_a_chinese_name_alone_is_enough(client, db):
    response = client.post("/submit/", new_listing(name_en="", name_zh="深度求索", website=""))
    assert response.status_code == 302
    assert Submission.objects.get().data["name_zh"] == "深度求索"


def _assert_refused(response, *typed, error, stored=0):
    assert response.status_code == 200
    assert Submission.objects.count() == stored
    body = response.content.decode()
    assert error in body, body
    assert "Please correct the fields marked below" in body
    for value in typed:
        assert value in body, value
    return body


@pytest.mark.parametrize(
    ("fields", "typed", "error"),
    [
        ({"website": "not a url at all"}, "not a url at all", "Enter a web address starting with http"),
        ({"website": "ftp://files.example.com/"}, "ftp://files.example.com/", "Enter a web address"),
        ({"website": "javascript:alert(1)"}, "javascript:alert(1)", "Enter a web address"),
        ({"country": "XX"}, "Moonshot AI", "Choose a country from the list"),
        ({"founded": "1700"}, 'value="1700"', "Enter a year from 1800 to"),
        ({"founded": "2999"}, 'value="2999"', "Enter a year from 1800 to"),
        ({"founded": "soon"}, 'value="soon"', "Enter a whole number"),
        ({"name_en": "", "name_zh": ""}, "Builds the Kimi models.", "Give the name in at least one language"),
        ({"name_en": "N" * 201}, "N" * 201, "at most 200 characters"),
        ({"description_en": "d" * 4001}, "d" * 4001, "at most 4000 characters"),
        ({"kind": "alien"}, "Moonshot AI", "Select a valid choice"),
        ({"open_source": "maybe"}, "Moonshot AI", "Select a valid choice"),
        ({"submitter_email": "not-an-email"}, 'value="not-an-email"', "Enter a valid email address"),
        ({"submitter_name": ""}, "li.wei@example.org", "This field is required"),
        ({"submitter_name": "x" * 121}, "x" * 121, "at most 120 characters"),
        ({"submitter_relation": "boss"}, "Li Wei", "Select a valid choice"),
        ({"note": "n" * 2001}, "n" * 2001, "at most 2000 characters"),
        ({"offerings-0-segment": "time-travel"}, "Kimi", "Select a valid choice"),
        ({"offerings-0-name": ""}, "Long context.", "This field is required"),
        ({"offerings-0-url": "ftp://kimi.example/"}, "ftp://kimi.example/", "Enter a web address"),
        ({"offerings-1-description": "orphan text"}, "orphan text", "This field is required"),
        ({"offerings-0-name": "K" * 201}, "K" * 201, "at most 200 characters"),
        ({"offerings-0-name": "Kimi|K2"}, "Kimi|K2", "CSV files use it to separate"),
        ({"name_en": "Moon\x00shot"}, "Builds the Kimi models.", "Null characters are not allowed"),
        ({"note": "a\x00b"}, "Li Wei", "Null characters are not allowed"),
    ],
)
def test_each_validation_error_writes_nothing_and_keeps_what_was_typed(client, db, fields, typed, error):
    body = _assert_refused(client.post("/submit/", new_listing(**fields)), typed, error=error)
    assert 'class="field has-error' in body
    assert 'value="Moonshot AI"' in body or fields.get("name_en") is not None


def test_at_least_one_offering_is_required_and_the_message_says_so(client, db):
    body = _assert_refused(
        client.post("/submit/", new_listing(offerings=[])),
        "Moonshot AI",
        error="Add at least one offering",
    )
    assert "Please submit" not in body
    chinese = client.post("/submit/", new_listing(offerings=[]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "请至少添加一项产品或服务" in chinese.content.decode()


def test_too_many_offerings_are_refused(client, db):
    rows = [{"segment": "aigc-tools", "name": f"Tool {i}"} for i in range(11)]
    _assert_refused(
        client.post("/submit/", new_listing(offerings=rows)), "Tool 3", error="List at most 10 offerings"
    )


def test_a_missing_management_form_is_an_error_not_a_crash(client, db):
    post = {k: v for k, v in new_listing().items() if not k.startswith("offerings-") or "-0-" in k}
    body = _assert_refused(client.post("/submit/", post), "Moonshot AI", error="Add at least one offering")
    assert "(Hidden field TOTAL_FORMS) This field is required." in body


@pytest.mark.parametrize(
    ("links", "error"),
    [
        ({"suppliers": [("no-such-org", "chips")]}, "No published participant has this slug"),
        ({"suppliers": [("nvidia", "")]}, "Choose what is supplied"),
        ({"customers": [("", "data")]}, "Name the participant by its slug"),
        ({"customers": [("openai", "teleport")]}, "Select a valid choice"),
        ({"suppliers": [("nvidia", "chips"), ("nvidia", "chips")]}, "This link is already listed above"),
    ],
)
def test_bad_supply_links_are_refused(client, small_chain, links, error):
    _assert_refused(client.post("/submit/", new_listing(**links)), "Moonshot AI", error=error)


def test_links_only_to_published_participants(client, small_chain):
    make_participant("hidden-lab", status="draft")
    _assert_refused(
        client.post("/submit/", new_listing(suppliers=[("hidden-lab", "model")])),
        'value="hidden-lab"',
        error="No published participant has this slug",
    )


# Duplicate detection -------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"website": "http://WWW.NVIDIA.example.com/en-us/data-center/"},  # same domain
        {"name_en": "nvidia"},  # case
        {"name_en": "ＮＶＩＤＩＡ"},  # full-width letters
        {"name_en": "  NVIDIA  "},
        {"name_zh": "英伟达"},  # Chinese name
        {"name_en": "", "name_zh": "英伟达"},
        {"name_en": "英伟达"},  # a Chinese name typed into the English field
    ],
)
def test_duplicate_of_a_participant_is_shown_and_not_stored(client, small_chain, fields):
    post = new_listing(
        **{"name_en": "Some GPU Maker", "name_zh": "", "website": "https://gpus.example/", **fields}
    )
    response = client.post("/submit/", post)
    body = _assert_refused(response, error="We may already list this organisation")
    assert 'href="/participants/nvidia/suggest/"' in body
    assert "This is a different organisation" in body
    assert 'name="confirm_different"' in body
    assert [p.slug for p in response.context["form"].duplicates.participants] == ["nvidia"]


def test_a_different_name_and_domain_is_no_duplicate(client, small_chain):
    response = client.post(
        "/submit/",
        new_listing(name_en="NVIDIA Research Fund", name_zh="", website="https://nv-fund.example/"),
    )
    assert response.status_code == 302


def test_duplicate_of_a_pending_submission_is_shown(client, db):
    assert client.post("/submit/", new_listing()).status_code == 302
    response = client.post("/submit/", new_listing(name_en="MOONSHOT ai", name_zh="", website=""))
    body = _assert_refused(response, error="a submission for it is already waiting for review", stored=1)
    # The other submission's private status link is never shown.
    assert Submission.objects.get().token not in body


def test_duplicate_of_a_pending_submission_by_chinese_name_and_domain(client, db):
    client.post("/submit/", new_listing())
    for fields in (
        {"name_en": "Dark Side", "name_zh": "月之暗面", "website": ""},
        {"name_en": "X", "name_zh": "", "website": "moonshot.cn"},
    ):
        response = client.post("/submit/", new_listing(**fields))
        assert response.status_code == 200
        assert len(response.context["form"].duplicates.submissions) == 1
    assert Submission.objects.count() == 1


def test_confirming_a_different_organisation_submits_anyway(client, small_chain):
    response = client.post("/submit/", new_listing(name_en="Nvidia", website="", confirm_different="on"))
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert submission.data["confirmed_different"] is True and submission.status == "pending"


def test_duplicate_hints_come_with_the_other_errors(client, small_chain):
    response = client.post("/submit/", new_listing(name_en="NVIDIA", founded="1066"))
    body = _assert_refused(response, 'value="1066"', error="Enter a year from 1800 to")
    assert "We may already list this organisation" in body


# Abuse ---------------------------------------------------------------------------


def test_csrf_is_enforced(db):
    response = Client(enforce_csrf_checks=True).post("/submit/", new_listing())
    assert response.status_code == 403
    assert Submission.objects.count() == 0


def test_honeypot_looks_normal_but_is_stored_as_spam_and_counted(
    client, db, caplog, django_capture_on_commit_callbacks
):
    with (
        caplog.at_level(logging.WARNING, logger="directory.throttle"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        response = client.post("/submit/", new_listing(phone="+1 555 0100"), REMOTE_ADDR="198.51.100.9")
    submission = Submission.objects.get()
    assert response.status_code == 302 and response["Location"] == submission.get_absolute_url()
    assert submission.status == "spam"
    assert callbacks == [] and mail.outbox == []  # nobody is mailed about spam
    assert cache.get(HONEYPOT_COUNTER) == 1
    assert "honeypot caught a submission from 198.51.100.9" in caplog.text
    client.post("/submit/", new_listing(phone="x", name_en="Other", name_zh="", website=""))
    assert cache.get(HONEYPOT_COUNTER) == 2


def test_honeypot_is_hidden_from_people(client, db):
    body = client.get("/submit/").content.decode()
    assert re.search(r'<div class="hp" aria-hidden="true">.*?name="phone"', body, re.S)
    assert 'tabindex="-1"' in body


@override_settings(SUBMISSION_RATE_LIMIT=2, SUBMISSION_RATE_WINDOW=3600)
def test_rate_limit_refuses_the_next_submission_with_429_and_stores_nothing(client, db):
    def send(n, ip="192.0.2.1"):
        return client.post(
            "/submit/",
            new_listing(name_en=f"Org {n}", name_zh="", website=f"https://org{n}.example/"),
            REMOTE_ADDR=ip,
        )

    # Invalid attempts do not count against the limit.
    assert send(0).status_code == 302
    assert client.post("/submit/", new_listing(founded="1"), REMOTE_ADDR="192.0.2.1").status_code == 200
    assert send(1).status_code == 302
    response = send(2)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "try again in about" in response.content.decode()
    assert Submission.objects.count() == 2
    # Another address is not affected.
    assert send(3, ip="192.0.2.2").status_code == 302


@override_settings(SUBMISSION_RATE_LIMIT=1, SUBMISSION_RATE_WINDOW=3600)
def test_over_the_limit_the_form_comes_back_with_what_was_typed(client, db):
    assert client.post("/submit/", new_listing(name_en="First", name_zh="", website="")).status_code == 302
    post = new_listing(
        name_en="Second Org",
        description_en="Typed with care.",
        offerings=[{"segment": "aigc-tools", "name": "Second Tool", "url": "https://second.example/"}],
        note="See our press page.",
    )
    response = client.post("/submit/", post)
    body = response.content.decode()
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert 'id="rate-limit"' in body and "try again in about 60 minutes" in body
    assert "Nothing from this attempt was stored" in body
    for typed in (
        'value="Second Org"',
        "Typed with care.",
        'value="Second Tool"',
        'value="https://second.example/"',
        "See our press page.",
        'value="li.wei@example.org"',
        '<option value="aigc-tools" selected>',
    ):
        assert typed in body, typed
    assert "Please correct the fields" not in body  # nothing was wrong with it
    assert Submission.objects.count() == 1


@override_settings(SUBMISSION_RATE_LIMIT=1)
def test_over_the_limit_mistakes_are_shown_as_usual(client, db):
    client.post("/submit/", new_listing(name_en="First", name_zh="", website=""))
    for post in ({}, new_listing(founded="1", name_en="Second", name_zh="", website="")):
        response = client.post("/submit/", post)
        body = response.content.decode()
        assert response.status_code == 200, post
        assert "Please correct the fields marked below" in body and 'id="rate-limit"' not in body
    assert "Enter a year from 1800" in body
    assert Submission.objects.count() == 1


@override_settings(SUBMISSION_RATE_LIMIT=1)
def test_rate_limit_covers_corrections_too(client, small_chain):
    from tests.submission_data import correction

    assert client.post("/submit/", new_listing()).status_code == 302
    response = client.post(
        "/participants/nvidia/suggest/", correction(small_chain["nvidia"], founded="1993", note="From 10-K.")
    )
    body = response.content.decode()
    assert response.status_code == 429 and "Retry-After" in response
    assert 'id="rate-limit"' in body and 'name="founded" value="1993"' in body and "From 10-K." in body
    assert Submission.objects.count() == 1
    # A correction with a mistake, or with no change at all, is answered as usual.
    bad = client.post("/participants/nvidia/suggest/", correction(small_chain["nvidia"], country="ZZ"))
    assert bad.status_code == 200 and "Choose a country from the list" in bad.content.decode()
    unchanged = client.post("/participants/nvidia/suggest/", correction(small_chain["nvidia"]))
    assert unchanged.status_code == 200 and "Nothing has changed" in unchanged.content.decode()


# Mail ----------------------------------------------------------------------------


@override_settings(
    CURATOR_EMAILS=["curator@chainsite.example"],
    SITE_URL="https://chainsite.example",
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
)
def test_curators_and_submitter_are_mailed_after_commit(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post("/submit/", new_listing())
    submission = Submission.objects.get()
    assert mail.outbox == [] and len(callbacks) == 1  # nothing is sent before the commit
    callbacks[0]()
    curator, confirmation = mail.outbox
    assert curator.to == ["curator@chainsite.example"]
    assert "Moonshot AI" in curator.subject and "Li Wei <li.wei@example.org>" in curator.body
    assert confirmation.to == ["li.wei@example.org"]
    assert f"https://chainsite.example/submissions/{submission.token}/" in confirmation.body


@override_settings(
    CURATOR_EMAILS=["curator@chainsite.example"], EMAIL_BACKEND="tests.test_submit.FailingBackend"
)
def test_a_failing_mail_server_loses_nothing(client, db, caplog, django_capture_on_commit_callbacks):
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        response = client.post("/submit/", new_listing())
    submission = Submission.objects.get()
    assert response.status_code == 302 and response["Location"] == submission.get_absolute_url()
    assert submission.status == "pending"
    assert caplog.text.count(f"for submission {submission.pk}") == 2  # curator mail and confirmation
    assert client.get(response["Location"]).status_code == 200
