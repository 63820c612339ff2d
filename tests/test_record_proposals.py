"""A record proposed by the public through the correction form, with its source, and
through moderation into the directory (issue: compliance and risk records, item 3)."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import override_settings

from directory.curation import moderation
from directory.curation.admin.review import proposal_post
from directory.models import Participant, Record, RecordKind, Source, Submission
from tests.conftest import make_participant
from tests.curation import correction as pending_correction
from tests.curation import make_user
from tests.submission_data import correction

pytestmark = pytest.mark.django_db

URL = "/participants/zhipu-ai/suggest/"
SOURCE = {
    "source_publisher": "Cyberspace Administration of China",
    "source_title": "[list of filed generative AI services]",
    "source_date": "2023-08",
}
RECORD = {"kind": "cac-genai-filing", "status": "in force", "date": "2023-08-31", **SOURCE}
RECORD_KEYS = (
    "kind",
    "status",
    "date",
    "end_date",
    "identifier",
    "entity_name",
    "source_publisher",
    "source_title",
    "source_date",
    "source_url",
)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def zhipu(db):
    RecordKind.objects.create(
        slug="cac-genai-filing",
        name_en="Generative AI service filing (CAC)",
        name_zh="生成式人工智能服务备案",
        jurisdiction="CN",
        authority_en="Cyberspace Administration of China",
        description_en="The service completed the filing.",
    )
    RecordKind.objects.create(
        slug="iso-42001",
        name_en="ISO/IEC 42001 certification",
        jurisdiction="intl",
        authority_en="Accredited certification body",
        description_en="Certified.",
        order=5,
    )
    return make_participant("zhipu-ai", ("foundation-models",), name_en="Zhipu AI", country="CN")


def _with_records(post, *records):
    """``post`` plus record rows (and one empty row), as the browser sends them."""
    post = dict(post)
    rows = [*records, {}]
    post.update({"records-TOTAL_FORMS": str(len(rows)), "records-INITIAL_FORMS": "0"})
    for i, row in enumerate(rows):
        for name in RECORD_KEYS:
            post[f"records-{i}-{name}"] = row.get(name, "in force" if name == "status" else "")
    return post


def _full(record):
    return {name: record.get(name, "") for name in RECORD_KEYS}


def test_the_correction_form_offers_record_rows_with_their_source(client, zhipu):
    body = client.get(URL).content.decode()
    for name in RECORD_KEYS:
        assert f'name="records-0-{name}"' in body, name
    assert '<option value="cac-genai-filing">Generative AI service filing (CAC)</option>' in body
    assert "New records (optional)" in body and "a record is added only with its source" in body


@override_settings(
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", CURATOR_EMAILS=["c@chainsite.example"]
)
def test_a_proposed_record_is_stored_for_review_and_shown_on_the_status_page(
    client, zhipu, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, _with_records(correction(zhipu), {**RECORD, "entity_name": "智谱华章"}))
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert submission.data == {"records": [_full({**RECORD, "entity_name": "智谱华章"})]}
    assert Record.objects.count() == 0 and Source.objects.count() == 0  # nothing published yet
    body = client.get(response["Location"]).content.decode()
    assert "New records" in body and "Generative AI service filing (CAC)" in body
    assert "Cyberspace Administration of China, [list of filed generative AI services] (2023-08)" in body
    curator = mail.outbox[0]
    assert "+ record: cac-genai-filing 2023-08-31, source: Cyberspace Administration of China" in curator.body


@pytest.mark.parametrize(
    ("record", "field", "error"),
    [
        (
            {**RECORD, "source_publisher": ""},
            "source_publisher",
            "A record needs its source: who published it.",
        ),
        ({**RECORD, "source_title": ""}, "source_title", "A record needs its source: the document&#x27;s"),
        ({**RECORD, "source_date": ""}, "source_date", "A record needs its source: when it was published."),
        ({**RECORD, "kind": ""}, "kind", "Choose a kind of record."),
        ({**RECORD, "date": ""}, "date", "Give the date of the record"),
        ({**RECORD, "date": "31/08/2023"}, "date", "Enter a date as YYYY, YYYY-MM or YYYY-MM-DD."),
        ({**RECORD, "source_date": "2023-13"}, "source_date", "Enter a date as YYYY, YYYY-MM or YYYY-MM-DD."),
        ({**RECORD, "status": "expired"}, "end_date", "needs the date it ended"),
        ({**RECORD, "end_date": "2020"}, "end_date", "The end comes before the start."),
        ({**RECORD, "end_date": "2024-01"}, "status", "Its end date has passed"),
        (
            {**RECORD, "source_url": "javascript:alert(1)"},
            "source_url",
            "Enter a web address starting with http",
        ),
        ({**RECORD, "kind": "no-such-kind"}, "kind", "Select a valid choice."),
    ],
)
def test_a_bad_record_is_refused_and_what_was_typed_is_kept(client, zhipu, record, field, error):
    response = client.post(URL, _with_records(correction(zhipu, founded="2019"), record))
    body = response.content.decode()
    assert response.status_code == 200 and error in body
    assert f'id="id_records-0-{field}_error"' in body  # said at the field it is about
    assert "Please correct the fields marked below" in body
    assert 'name="founded" value="2019"' in body
    assert (
        f'name="records-0-source_title" value="{record["source_title"]}"' in body
        or not record["source_title"]
    )
    assert Submission.objects.count() == 0 and Record.objects.count() == 0


def test_a_record_it_already_has_or_twice_is_refused(client, zhipu):
    existing = Record.objects.create(
        participant=zhipu, kind=RecordKind.objects.get(slug="cac-genai-filing"), date="2023-08-31"
    )
    body = client.post(URL, _with_records(correction(zhipu), RECORD)).content.decode()
    assert "The directory already has this record." in body
    other = {**RECORD, "date": "2024"}
    body = client.post(URL, _with_records(correction(zhipu), other, other)).content.decode()
    assert "This record is already listed above." in body
    assert Submission.objects.count() == 0 and list(Record.objects.all()) == [existing]


def test_the_status_alone_is_not_a_proposal(client, zhipu):
    """An untouched row keeps its default status; it proposes nothing."""
    response = client.post(URL, _with_records(correction(zhipu)))
    assert response.status_code == 200
    assert "Nothing has changed" in response.content.decode()
    assert Submission.objects.count() == 0


def test_a_moderator_reviews_edits_and_approves_a_proposed_record(client, zhipu):
    submission = pending_correction(zhipu, records=[_full({**RECORD, "identifier": "Beijing-Zhipu-2023"})])
    moderator = make_user("mona", "Moderators")
    client.force_login(moderator)
    page = client.get(f"/admin/directory/submission/{submission.pk}/change/").content.decode()
    assert 'name="records-0-identifier" value="Beijing-Zhipu-2023"' in page
    assert '<option value="cac-genai-filing" selected>' in page
    assert 'name="records-1-kind"' in page  # an empty row to add one

    post = {**proposal_post(submission).dict(), "reason": "", "_approve": "1", "records-0-identifier": ""}
    response = client.post(f"/admin/directory/submission/{submission.pk}/change/", post)
    assert response.status_code == 302
    record = Record.objects.get()
    assert (record.participant, record.kind.slug, record.date, record.identifier, record.status) == (
        zhipu,
        "cac-genai-filing",
        "2023-08-31",
        "",  # the moderator cleared the identifier they could not confirm
        "in force",
    )
    assert [(s.publisher, s.title, s.published, s.url) for s in record.sources.all()] == [
        ("Cyberspace Administration of China", "[list of filed generative AI services]", "2023-08", "")
    ]
    history = record.history.get()
    assert history.history_user == moderator
    assert history.history_change_reason == f"Approved submission #{submission.pk}, edited by the curator"
    submission.refresh_from_db()
    assert submission.status == "approved"
    page = client.get("/participants/zhipu-ai/").content.decode()
    assert "Generative AI service filing (CAC)" in page and "[list of filed generative AI services]" in page


def test_the_review_refuses_a_record_without_its_source(client, zhipu):
    submission = pending_correction(zhipu, records=[_full(RECORD)])
    client.force_login(make_user("mona", "Moderators"))
    post = {**proposal_post(submission).dict(), "reason": "", "_approve": "1", "records-0-source_title": ""}
    response = client.post(f"/admin/directory/submission/{submission.pk}/change/", post)
    body = response.content.decode()
    assert response.status_code == 200 and "A record needs its source: the document&#x27;s title." in body
    assert Record.objects.count() == 0 and Source.objects.count() == 0
    submission.refresh_from_db()
    assert submission.status == "pending"


def test_an_approval_reuses_a_source_and_skips_a_record_added_meanwhile(zhipu):
    kind = RecordKind.objects.get(slug="cac-genai-filing")
    source = Source.objects.create(
        publisher=SOURCE["source_publisher"], title=SOURCE["source_title"], published=SOURCE["source_date"]
    )
    later = {**RECORD, "kind": "iso-42001", "date": "2025-01", "status": "in force"}
    submission = pending_correction(zhipu, records=[_full(RECORD), _full(later)])
    Record.objects.create(participant=zhipu, kind=kind, date="2023-08-31")  # a curator was faster
    moderation.approve_submission(submission, make_user("mona", "Moderators"))
    assert sorted(Record.objects.values_list("kind__slug", "date")) == [
        ("cac-genai-filing", "2023-08-31"),
        ("iso-42001", "2025-01"),
    ]
    assert list(Source.objects.all()) == [source]
    assert list(Record.objects.get(kind__slug="iso-42001").sources.all()) == [source]


def test_an_invalid_record_sent_by_a_script_changes_nothing(zhipu):
    """The approval checks every record as the form does: one bad record, and neither the
    fields nor the other records are written."""
    submission = pending_correction(
        zhipu, country="SG", records=[_full(RECORD), _full({**RECORD, "date": "2024", "source_title": ""})]
    )
    with pytest.raises(ValidationError, match="source_title: A record needs its source"):
        moderation.approve_submission(submission, make_user("mona", "Moderators"))
    assert Participant.objects.get(slug="zhipu-ai").country == "CN"
    assert Record.objects.count() == 0 and Source.objects.count() == 0
    submission.refresh_from_db()
    assert submission.status == "pending"
