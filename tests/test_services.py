"""directory.services: approving, rejecting and marking submissions as spam."""

import re
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from directory.curation import moderation as services
from directory.models import Offering, Participant, Relationship, Segment, Submission
from tests.conftest import make_participant
from tests.curation import correction, make_user, new_listing

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(db):
    return make_user("mona", "Moderators")


def test_approving_a_new_listing_creates_one_participant_with_offerings_and_links(small_chain, moderator):
    submission = new_listing(
        suppliers=[{"participant": "azure", "kind": "compute"}, {"participant": "gone", "kind": "data"}],
        customers=[{"participant": "openai", "kind": "data"}],
    )
    before = Participant.objects.count()

    participant = services.approve_submission(submission, moderator)

    assert Participant.objects.count() == before + 1
    participant.refresh_from_db()
    assert participant.slug == "moonshot-data"
    assert (participant.name_zh, participant.country, participant.founded) == ("月影数据", "CN", 2021)
    assert participant.status == "published" and participant.published_at is not None
    assert participant.website_domain == "moonshot-data.example.com"
    assert sorted(participant.offerings.values_list("segment__slug", "name")) == [
        ("data-services", "Speech labelling"),
        ("training-tuning", "Eval sets"),
    ]
    # The link to a participant that no longer exists ("gone") is skipped.
    assert list(participant.supplied_by.values_list("supplier__slug", "kind")) == [("azure", "compute")]
    assert list(participant.supplies.values_list("customer__slug", "kind")) == [("openai", "data")]
    assert "月影" in participant.search_names and "moonshot" in participant.search_names
    submission.refresh_from_db()
    assert submission.status == "approved" and submission.participant == participant
    assert submission.reviewed_by == moderator and submission.reviewed_at is not None
    record = participant.history.get()
    assert record.history_user == moderator and f"#{submission.pk}" in record.history_change_reason


def test_the_new_slug_is_unique(moderator):
    make_participant("moonshot-data")
    participant = services.approve_submission(new_listing(), moderator)
    assert participant.slug == "moonshot-data-2"


def test_a_curator_can_edit_the_proposal_before_approving(moderator):
    submission = new_listing()
    edited = {**submission.data, "name_en": "Moonshot Data Ltd", "country": "SG"}
    participant = services.approve_submission(submission, moderator, data=edited)
    assert (participant.name_en, participant.country) == ("Moonshot Data Ltd", "SG")
    submission.refresh_from_db()
    assert submission.data["name_en"] == "Moonshot Data"  # what the submitter sent is kept
    assert "edited" in participant.history.get().history_change_reason


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"country": "XX"}, "country"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"founded": "soon"}, "founded"),
        ({"founded": timezone.now().year + 1}, "Enter a year from 1800 to"),
        ({"kind": "empire"}, "kind"),
        ({"name_en": "", "name_zh": ""}, "name"),
        ({"offerings": [{"segment": "no-such-segment", "name": "X"}]}, "segment"),
        ({"offerings": []}, "at least one offering"),
        ({"suppliers": [{"participant": "azure", "kind": "bribes"}]}, "kind"),
        ({"surprise": 1}, "Unknown field"),
    ],
)
def test_values_the_directory_cannot_take_are_refused_and_nothing_is_written(
    small_chain, moderator, change, message
):
    submission = new_listing(**change)
    counts = (Participant.objects.count(), Offering.objects.count(), Relationship.objects.count())
    with pytest.raises(ValidationError) as error:
        services.approve_submission(submission, moderator)
    assert message in str(error.value)
    assert (Participant.objects.count(), Offering.objects.count(), Relationship.objects.count()) == counts
    submission.refresh_from_db()
    assert submission.status == "pending" and submission.reviewed_by is None


def test_a_correction_updates_exactly_the_changed_fields(small_chain, moderator):
    zhipu = small_chain["zhipu"]
    # country is proposed unchanged, so it is not written.
    submission = correction(
        zhipu, name_zh="智谱AI", founded=2019, website="https://www.zhipuai.cn/", country="CN"
    )
    # A curator edits the description after the correction was submitted.
    Participant.objects.filter(pk=zhipu.pk).update(description_en="Edited by a curator.")

    with CaptureQueriesContext(connection) as queries:
        services.approve_submission(submission, moderator)

    writes = [
        q["sql"] for q in queries if q["sql"].startswith('UPDATE "directory_participant" SET "name_zh"')
    ]
    assert len(writes) == 1
    set_clause = writes[0].split(" SET ")[1].split(" WHERE ")[0]
    assert sorted(re.findall(r'"(\w+)" =', set_clause)) == [
        "founded",
        "name_sort_zh",  # a new Chinese name moves it in the Chinese A–Z
        "name_zh",
        "updated_at",
        "website",
        "website_domain",
    ]
    zhipu.refresh_from_db()
    assert (zhipu.name_zh, zhipu.founded, zhipu.website) == ("智谱AI", 2019, "https://www.zhipuai.cn/")
    assert zhipu.name_sort_zh == "zhipuai"
    assert zhipu.website_domain == "zhipuai.cn"
    assert zhipu.description_en == "Edited by a curator."  # not in the correction: untouched
    assert (zhipu.name_en, zhipu.open_source, zhipu.country) == ("Zhipu AI", "partly", "CN")
    assert zhipu.history.latest().history_user == moderator
    assert "智谱ai" in zhipu.search_names
    submission.refresh_from_db()
    assert submission.status == "approved" and submission.participant == zhipu


def test_a_correction_adds_its_offerings_and_links_in_one_transaction(small_chain, moderator):
    nvidia = small_chain["nvidia"]
    submission = correction(
        nvidia,
        founded=1993,
        offerings=[
            {"segment": "cloud-compute", "name": "DGX Cloud", "description": "", "url": ""},
            {"segment": "ai-chips", "name": "NVIDIA offering", "description": "", "url": ""},  # has it
        ],
        suppliers=[{"participant": "zhipu-ai", "kind": "model"}, {"participant": "nvidia", "kind": "chips"}],
        customers=[{"participant": "openai", "kind": "chips"}, {"participant": "azure", "kind": "chips"}],
    )
    services.approve_submission(submission, moderator)
    nvidia.refresh_from_db()
    assert nvidia.founded == 1993
    assert sorted(nvidia.offerings.values_list("segment__slug", "name")) == [
        ("ai-chips", "NVIDIA offering"),
        ("cloud-compute", "DGX Cloud"),
    ]
    links = Relationship.objects.filter(supplier=nvidia) | Relationship.objects.filter(customer=nvidia)
    assert sorted(links.values_list("supplier__slug", "customer__slug", "kind")) == [
        ("nvidia", "azure", "chips"),  # existed: kept once
        ("nvidia", "openai", "chips"),
        ("zhipu-ai", "nvidia", "model"),  # the link to itself is skipped
    ]
    new_link = Relationship.objects.get(supplier__slug="zhipu-ai")
    record = new_link.history.get()
    assert record.history_user == moderator and f"#{submission.pk}" in record.history_change_reason
    assert nvidia.offerings.get(name="DGX Cloud").history.get().history_user == moderator
    assert "dgx cloud" in Participant.objects.get(pk=nvidia.pk).search_terms


def test_a_correction_with_a_bad_addition_writes_nothing(small_chain, moderator):
    nvidia = small_chain["nvidia"]
    submission = correction(
        nvidia,
        name_en="NVIDIA Corp",
        offerings=[{"segment": "cloud-compute", "name": "DGX Cloud"}],
        customers=[{"participant": "openai", "kind": "bribes"}],
    )
    counts = (Offering.objects.count(), Relationship.objects.count())
    with pytest.raises(ValidationError, match="kind"):
        services.approve_submission(submission, moderator)
    nvidia.refresh_from_db()
    assert nvidia.name_en == "NVIDIA" and (Offering.objects.count(), Relationship.objects.count()) == counts


def test_conflicting_fields_are_those_changed_since_the_submission(small_chain):
    zhipu = small_chain["zhipu"]
    submission = correction(zhipu, name_zh="智谱AI")
    assert services.conflicting_fields(submission) == []
    Participant.objects.filter(pk=zhipu.pk).update(name_zh="智谱华章", country="SG")
    submission.participant.refresh_from_db()
    assert services.conflicting_fields(submission) == ["name_zh", "country"]


def test_approving_twice_applies_once(moderator):
    submission = new_listing()
    services.approve_submission(submission, moderator)
    with pytest.raises(services.SubmissionAlreadyReviewed):
        services.approve_submission(Submission.objects.get(pk=submission.pk), moderator)
    assert Participant.objects.filter(name_en="Moonshot Data").count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite has no row locks and serialises writers, so two threads cannot race",
)
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_curators_approving_at_once_apply_it_once():
    # Committed data, so both threads' connections see it. A transactional test may run
    # after another one flushed the tables, so make what this test needs.
    for slug in ("data-services", "training-tuning"):
        Segment.objects.get_or_create(slug=slug, defaults={"tier": "midstream", "name_en": slug})
    first, second = make_user("first"), make_user("second")
    submission = new_listing()
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(user):
        try:
            barrier.wait(timeout=10)
            services.approve_submission(Submission.objects.get(pk=submission.pk), user)
            outcomes.append("approved")
        except services.SubmissionAlreadyReviewed:
            outcomes.append("already reviewed")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(user,)) for user in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["already reviewed", "approved"]
    assert Participant.objects.filter(name_en="Moonshot Data").count() == 1
    assert Offering.objects.filter(participant__name_en="Moonshot Data").count() == 2


def test_rejecting_requires_a_reason_and_keeps_the_submission(moderator):
    submission = new_listing()
    with pytest.raises(ValidationError, match="reason is required"):
        services.reject_submission(submission, moderator, "  ")
    submission.refresh_from_db()
    assert submission.status == "pending"

    services.reject_submission(submission, moderator, "Not an LLM company.")

    submission.refresh_from_db()
    assert submission.status == "rejected" and submission.review_reason == "Not an LLM company."
    assert submission.reviewed_by == moderator and submission.data["name_en"] == "Moonshot Data"
    assert not Participant.objects.filter(name_en="Moonshot Data").exists()
    with pytest.raises(services.SubmissionAlreadyReviewed):
        services.approve_submission(submission, moderator)


def test_marking_spam_keeps_the_submission_and_writes_nothing_else(moderator):
    submission = new_listing()
    services.mark_spam(submission, moderator)
    submission.refresh_from_db()
    assert submission.status == "spam" and submission.reviewed_by == moderator
    assert Submission.objects.count() == 1 and Participant.objects.count() == 0


def test_submissions_from_the_public_forms_are_applied_and_their_status_page_follows(client, small_chain):
    """The Submission.data contract end to end: /submit/ and /suggest/ produce what
    approval applies, and the submitter's status page shows the outcome."""
    from tests import submission_data

    moderator = make_user("mona", "Moderators")
    post = submission_data.new_listing(suppliers=[("azure", "compute")], customers=[("openai", "data")])
    assert client.post("/submit/", post).status_code == 302
    submission = Submission.objects.get(kind="new")

    participant = services.approve_submission(submission, moderator)

    assert (participant.name_zh, participant.founded, participant.status) == ("月之暗面", 2023, "published")
    assert list(participant.offerings.values_list("segment__slug", "name")) == [("foundation-models", "Kimi")]
    assert list(participant.supplied_by.values_list("supplier__slug", flat=True)) == ["azure"]
    assert list(participant.supplies.values_list("customer__slug", flat=True)) == ["openai"]
    assert "Approved" in client.get(submission.get_absolute_url()).content.decode()

    openai = small_chain["openai"]
    post = submission_data.correction(openai, founded="2015", name_zh="开放人工智能")
    assert client.post(f"/participants/{openai.slug}/suggest/", post).status_code == 302
    fix = Submission.objects.get(kind="correction")
    services.reject_submission(fix, moderator, "Please cite a source for the Chinese name.")
    assert "Please cite a source" in client.get(fix.get_absolute_url()).content.decode()
