"""The curators' admin: changelists, the moderation queue, actions, saves and history."""

import itertools
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from directory.curation.admin.review import proposal_post
from directory.models import Offering, Participant, Relationship, Segment, Submission
from tests.conftest import make_participant
from tests.curation import correction, make_user, new_listing

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/directory/participant/"
# The review page of a new listing with two offerings and a link: session, user, the
# submission, the user's and the groups' permissions; segments (the offering rows);
# duplicate candidates (participants, pending submissions); the participant CHECK
# probes (5 x 3: savepoint, SELECT, release); one segment probe per offering (at most
# 10); the published slugs of the links.
REVIEW_PAGE_QUERIES = 3 + 2 + 1 + 2 + 5 * 3 + 2 + 1


@pytest.fixture
def superuser_client(client):
    client.force_login(make_user("root", superuser=True))
    return client


def _many_participants(n, prefix):
    segments = list(Segment.objects.all())
    participants = Participant.objects.bulk_create(
        Participant(slug=f"{prefix}-{i}", name_en=f"{prefix} {i}", country=("CN", "US", "FR")[i % 3])
        for i in range(n)
    )
    Offering.objects.bulk_create(
        Offering(participant=p, segment=segments[i % len(segments)], name=f"Offer {i}")
        for i, p in enumerate(participants)
    )
    Relationship.objects.bulk_create(
        Relationship(supplier=a, customer=b, kind="compute") for a, b in itertools.pairwise(participants)
    )
    return participants


def _query_count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("url", "most"),
    [
        # session, user, segments (segment filter), count filtered, count total,
        # the page of participants, their offerings with segments, distinct countries (filter)
        (CHANGELIST, 8),
        (CHANGELIST + "?tier=upstream&verified=never&status=published", 8),
        # session, user, segments (segment filter), two counts, the page with participants and segments
        ("/admin/directory/offering/", 6),
        # session, user, two counts, the page with suppliers and customers
        ("/admin/directory/relationship/", 7),  # the two segment filters each list segments
        # session, user, two counts, the page with participants and reviewers
        ("/admin/directory/submission/", 5),
    ],
)
def test_changelists_run_a_constant_number_of_queries(superuser_client, url, most):
    _many_participants(20, "few")
    few = _query_count(superuser_client, url)
    _many_participants(200, "many")
    Submission.objects.bulk_create(
        Submission(kind="new", data={"name_en": f"S{i}"}, submitter_name="x", submitter_email="x@example.com")
        for i in range(200)
    )
    assert _query_count(superuser_client, url) == few <= most


def test_anonymous_gets_the_login_page(client):
    for url in ("/admin/", CHANGELIST, "/admin/directory/submission/", CHANGELIST + "import-csv/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert "Log in" in client.get("/admin/login/").content.decode()


def test_changelist_filters_by_tier_segment_and_verified_age(superuser_client):
    make_participant("chipco", ("ai-chips",), last_verified=timezone.localdate())
    make_participant("modelco", ("foundation-models", "training-tuning"))
    make_participant(
        "oldco", ("foundation-models",), last_verified=timezone.localdate() - timedelta(days=400)
    )

    def listed(query):
        response = superuser_client.get(CHANGELIST + query)
        return sorted(p.slug for p in response.context["cl"].result_list)

    assert listed("?tier=upstream") == ["chipco"]
    assert listed("?tier=midstream") == ["modelco", "oldco"]  # modelco once, though in two segments
    assert listed("?segment=training-tuning") == ["modelco"]
    assert listed("?verified=90d") == ["chipco"]
    assert listed("?verified=stale") == ["oldco"]
    assert listed("?verified=never") == ["modelco"]
    assert listed("?q=Modelco") == ["modelco"]
    assert listed("?tier=bogus&verified=bogus") == ["chipco", "modelco", "oldco"]


def test_admin_save_refreshes_search_sets_timestamps_and_records_the_user(client):
    editor = make_user("edith", "Editors")
    client.force_login(editor)
    participant = make_participant("draftco", status="draft")
    offering = participant.offerings.get()
    before = participant.updated_at
    form = {
        "name_en": "Draft Co",
        "name_zh": "草稿公司",
        "slug": "draftco",
        "status": "published",
        "website": "https://draftco.example.com/",
        "country": "US",
        "kind": "vendor",
        "open_source": "no",
        "description_en": "Now public.",
        "offerings-TOTAL_FORMS": "1",
        "offerings-INITIAL_FORMS": "1",
        "offerings-0-id": str(offering.pk),
        "offerings-0-participant": str(participant.pk),
        "offerings-0-segment": str(offering.segment_id),
        "offerings-0-name": "Renamed offering",
        "supplied_by-TOTAL_FORMS": "0",
        "supplied_by-INITIAL_FORMS": "0",
        "supplies-TOTAL_FORMS": "0",
        "supplies-INITIAL_FORMS": "0",
        "records-TOTAL_FORMS": "0",
        "records-INITIAL_FORMS": "0",
    }
    response = client.post(f"{CHANGELIST}{participant.pk}/change/", form)
    assert response.status_code == 302, response.context["errors"] if response.context else response

    participant.refresh_from_db()
    assert participant.status == "published" and participant.published_at is not None
    assert participant.updated_at > before
    assert "草稿" in participant.search_names and "renamed offering" in participant.search_terms
    assert participant.history.latest().history_user == editor
    assert offering.history.latest().history_user == editor


def test_actions_publish_feature_verify_and_archive_with_history(superuser_client):
    a = make_participant("alpha", status="draft")
    b = make_participant("beta")
    ids = [str(a.pk), str(b.pk)]
    for action in ("publish", "feature", "mark_verified_today"):
        response = superuser_client.post(CHANGELIST, {"action": action, "_selected_action": ids})
        assert response.status_code == 302
    a.refresh_from_db()
    assert (a.status, a.featured, a.last_verified) == ("published", True, timezone.localdate())
    assert a.published_at is not None

    superuser_client.post(CHANGELIST, {"action": "unfeature", "_selected_action": ids})
    superuser_client.post(CHANGELIST, {"action": "archive", "_selected_action": [str(b.pk)]})
    a.refresh_from_db()
    b.refresh_from_db()
    assert not a.featured and b.status == "archived"
    assert Participant.objects.count() == 2  # archive keeps the record
    record = b.history.latest()
    assert record.status == "archived" and record.history_user.username == "root"
    assert record.history_change_reason == "Archived"

    superuser_client.post(CHANGELIST, {"action": "unpublish", "_selected_action": [str(a.pk)]})
    a.refresh_from_db()
    assert a.status == "draft"


def test_only_superusers_hard_delete(client):
    participant = make_participant("keepme")
    client.force_login(make_user("edith", "Editors"))
    response = client.get(CHANGELIST)
    actions = [value for value, _ in response.context["action_form"].fields["action"].choices]
    assert "archive" in actions and "delete_selected" not in actions
    assert client.post(f"{CHANGELIST}{participant.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Participant.objects.filter(pk=participant.pk).exists()

    client.force_login(make_user("root", superuser=True))
    assert client.post(f"{CHANGELIST}{participant.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Participant.objects.filter(pk=participant.pk).exists()


def test_history_lists_each_change_with_its_user_and_a_version_can_be_restored(client):
    editor = make_user("edith", "Editors")
    client.force_login(editor)
    participant = make_participant("histco", name_en="Hist Co")
    for name in ("Hist Co One", "Hist Co Two"):
        participant.name_en = name
        participant._history_user = editor
        participant.save()

    page = client.get(f"{CHANGELIST}{participant.pk}/history/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Hist Co One" in text and "Hist Co Two" in text and "edith" in text

    version = participant.history.get(name_en="Hist Co One")
    url = f"{CHANGELIST}{participant.pk}/history/{version.history_id}/"
    form = client.get(url)
    assert form.status_code == 200 and "Revert" in form.content.decode()
    response = client.post(
        url,
        {
            **{k: getattr(version, k) for k in ("name_en", "slug", "status", "website", "country", "kind")},
            "open_source": version.open_source,
            "description_en": version.description_en,
            "name_zh": "",
            "description_zh": "",
        },
    )
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.name_en == "Hist Co One"
    assert "hist co one" in participant.search_names
    restored = participant.history.latest()
    assert restored.history_user == editor and restored.name_en == "Hist Co One"


# The moderation queue.


def _change_form(participant, **fields):
    """The participant's change form as the admin posts it, with its offerings and links."""
    form = {
        **{k: getattr(participant, k) for k in ("name_en", "slug", "status", "website", "country", "kind")},
        "open_source": participant.open_source,
        "offerings-TOTAL_FORMS": "0",
        "offerings-INITIAL_FORMS": "0",
        "supplied_by-TOTAL_FORMS": "0",
        "supplied_by-INITIAL_FORMS": "0",
        "supplies-TOTAL_FORMS": "0",
        "supplies-INITIAL_FORMS": "0",
        "records-TOTAL_FORMS": "0",
        "records-INITIAL_FORMS": "0",
    }
    form.update(fields)
    return form


def test_adding_or_changing_a_supply_link_shows_in_the_participants_history(client, small_chain):
    nvidia, zhipu = small_chain["nvidia"], small_chain["zhipu"]
    editor = make_user("edith", "Editors")
    client.force_login(editor)
    url = f"{CHANGELIST}{nvidia.pk}/change/"
    link = nvidia.supplies.get()  # NVIDIA -> Azure, made without a user
    added = _change_form(
        nvidia,
        **{
            "supplies-TOTAL_FORMS": "2",
            "supplies-INITIAL_FORMS": "1",
            "supplies-0-id": str(link.pk),
            "supplies-0-supplier": str(nvidia.pk),
            "supplies-0-kind": "chips",
            "supplies-0-customer": str(link.customer_id),
            "supplies-0-status": "active",
            "supplies-0-evidence": "Azure ND H100 v5 announcement.",
            "supplies-1-supplier": str(nvidia.pk),
            "supplies-1-kind": "chips",
            "supplies-1-status": "active",
            "supplies-1-customer": str(zhipu.pk),
        },
    )
    response = client.post(url, added)
    assert response.status_code == 302, response.context and response.context["errors"]

    history = client.get(f"{CHANGELIST}{nvidia.pk}/history/")
    table = re.search(r'<div class="module" id="link-history">(.*?)</table>', history.content.decode(), re.S)
    rows = re.findall(r'<tr data-history-type="(.)">(.*?)</tr>', table.group(1), re.S)
    assert [kind for kind, _ in rows] == ["+", "~", "+"]  # newest first
    new, changed, original = (cells for _, cells in rows)
    assert "NVIDIA → Zhipu AI" in new and "supplies chips to" in new and "edith" in new
    assert "NVIDIA → Microsoft Azure" in changed and "edith" in changed
    assert "<strong>evidence:</strong> &nbsp;&rarr;&nbsp;Azure ND H100 v5 announcement." in changed
    assert "NVIDIA → Microsoft Azure" in original
    # The customer's history shows the same new link.
    assert "NVIDIA → Zhipu AI" in client.get(f"{CHANGELIST}{zhipu.pk}/history/").content.decode()


def test_the_history_page_reads_the_links_in_two_queries(client, small_chain, django_assert_max_num_queries):
    nvidia = small_chain["nvidia"]
    client.force_login(make_user("root", superuser=True))
    url = f"{CHANGELIST}{nvidia.pk}/history/"
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(15):
        other = make_participant(f"buyer-{i}", ("cloud-compute",))
        Relationship.objects.create(supplier=nvidia, customer=other, kind="chips")
    with django_assert_max_num_queries(len(few)):
        body = client.get(url).content.decode()
    assert body.count("NVIDIA → Buyer") == 15


def test_admin_index_shows_the_pending_count_to_moderators(client):
    new_listing()
    new_listing(name_en="Second")
    Submission.objects.create(
        kind="new", status="rejected", submitter_name="x", submitter_email="x@example.com"
    )
    client.force_login(make_user("mona", "Moderators"))
    response = client.get("/admin/")
    assert "2 pending submissions" in response.content.decode()


def test_the_queue_opens_on_pending_submissions_oldest_first(client):
    now = timezone.now()
    newer = new_listing(name_en="Newer")
    older = new_listing(name_en="Older")
    Submission.objects.filter(pk=newer.pk).update(created_at=now)
    Submission.objects.filter(pk=older.pk).update(created_at=now - timedelta(days=2))
    done = new_listing(name_en="Done")
    Submission.objects.filter(pk=done.pk).update(status="approved")
    client.force_login(make_user("mona", "Moderators"))

    response = client.get("/admin/directory/submission/")
    assert [s.pk for s in response.context["cl"].result_list] == [older.pk, newer.pk]
    everything = client.get("/admin/directory/submission/?status=all").context["cl"].result_list
    assert {s.pk for s in everything} == {older.pk, newer.pk, done.pk}


def test_a_correction_page_shows_current_and_proposed_side_by_side_with_conflicts(client, small_chain):
    zhipu = small_chain["zhipu"]
    submission = correction(zhipu, name_zh="智谱AI", founded=2019)
    Participant.objects.filter(pk=zhipu.pk).update(name_zh="智谱华章")
    client.force_login(make_user("mona", "Moderators"))

    response = client.get(f"/admin/directory/submission/{submission.pk}/change/")
    text = response.content.decode()
    assert response.status_code == 200
    assert 'class="changed conflict" data-field="name_zh"' in text
    assert 'class="changed" data-field="founded"' in text
    assert 'class="" data-field="country"' in text
    assert "智谱华章" in text and "智谱AI" in text
    assert "changed since the submission was made: name (Chinese)" in text


def test_a_new_listing_page_shows_the_proposal_as_a_form_and_possible_duplicates(client, small_chain):
    submission = new_listing(
        website="https://www.nvidia.com/x", suppliers=[{"participant": "gone", "kind": "chips"}]
    )
    Participant.objects.filter(slug="nvidia").update(
        website="https://www.nvidia.com/", website_domain="nvidia.com"
    )
    client.force_login(make_user("mona", "Moderators"))
    text = client.get(f"/admin/directory/submission/{submission.pk}/change/").content.decode()
    # Each field proposed, and editable with the proposed value in it.
    assert '<td class="value proposed">Moonshot Data</td>' in text
    assert 'name="name_en" value="Moonshot Data"' in text
    assert '<option value="CN" selected>' in text and "China (CN)" in text
    assert 'name="offerings-0-name" value="Speech labelling"' in text
    assert '<option value="data-services" selected>' in text
    assert 'name="suppliers-0-participant" value="gone"' in text
    assert 'name="offerings-2-name"' in text  # an empty row to add one
    assert "Possible duplicates" in text and "NVIDIA" in text
    # What the public form would refuse is marked before anyone approves.
    assert 'id="proposal-errors"' in text and "No published participant has this slug." in text
    assert "proposed" not in re.findall(r'<textarea name="(\w+)"', text)  # no JSON to edit


def _cleared(prefix, number):
    """The fields of one offering row, emptied (how a moderator leaves a row out)."""
    return {f"{prefix}-{number}-{name}": "" for name in ("segment", "name", "description", "url")}


def _review(client, submission, action, **fields):
    """POST the review form as the browser sends it after the page opened: the proposal
    as the form shows it (``proposal_post``), with ``fields`` changed, and the button."""
    post = {**proposal_post(submission).dict(), "reason": "", f"_{action}": "1", **fields}
    return client.post(f"/admin/directory/submission/{submission.pk}/change/", post)


def test_moderator_approves_an_edited_new_listing(client):
    moderator = make_user("mona", "Moderators")
    client.force_login(moderator)
    submission = new_listing()

    response = _review(client, submission, "approve", name_en="Moonshot Data Ltd", **_cleared("offerings", 1))

    assert response.status_code == 302 and response["Location"] == "/admin/directory/submission/"
    participant = Participant.objects.get(name_en="Moonshot Data Ltd")
    assert participant.status == "published"
    assert list(participant.offerings.values_list("name", flat=True)) == ["Speech labelling"]  # row cleared
    assert "edited by the curator" in participant.history.get().history_change_reason
    submission.refresh_from_db()
    assert (submission.status, submission.reviewed_by, submission.participant) == (
        "approved",
        moderator,
        participant,
    )
    assert submission.data["name_en"] == "Moonshot Data"  # what the submitter sent is kept
    # A second click (another tab) applies nothing more.
    again = _review(client, submission, "approve")
    assert again.status_code == 403
    assert Participant.objects.filter(name_en__startswith="Moonshot").count() == 1


def test_an_unedited_approval_is_not_marked_as_edited(client):
    client.force_login(make_user("mona", "Moderators"))
    submission = new_listing()
    assert _review(client, submission, "approve").status_code == 302
    participant = Participant.objects.get()
    assert participant.history.get().history_change_reason == f"Approved submission #{submission.pk}"
    assert participant.offerings.count() == 2


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"country": "XX"}, "Choose a country from the list"),
        ({"founded": "1700"}, "Enter a year from 1800 to"),
        ({"website": "javascript:alert(1)"}, "Enter a web address starting with http"),
        ({"name_en": "", "name_zh": ""}, "Give the name in at least one language"),
        ({**_cleared("offerings", 0), **_cleared("offerings", 1)}, "Add at least one offering"),
        ({"offerings-0-name": "A|B"}, "CSV files use it to separate"),
        ({"suppliers-0-participant": "no-such-org", "suppliers-0-kind": "chips"}, "No published participant"),
    ],
)
def test_the_review_form_validates_as_the_public_form_does(client, small_chain, fields, error):
    client.force_login(make_user("mona", "Moderators"))
    submission = new_listing()
    response = _review(client, submission, "approve", **fields)
    body = response.content.decode()
    assert response.status_code == 200 and error in body
    assert 'id="proposal-errors"' in body and "Correct the proposal below before approving it." in body
    assert not Participant.objects.filter(name_en__startswith="Moonshot").exists()
    submission.refresh_from_db()
    assert submission.status == "pending"


def test_a_proposal_the_directory_refuses_can_still_be_rejected(client, small_chain):
    client.force_login(make_user("mona", "Moderators"))
    submission = new_listing(founded=1066, country="XX")
    page = client.get(f"/admin/directory/submission/{submission.pk}/change/").content.decode()
    assert "Enter a year from 1800 to" in page and "Choose a country from the list" in page
    assert _review(client, submission, "reject", reason="Not a real company.").status_code == 302
    submission.refresh_from_db()
    assert submission.status == "rejected"


def test_rejecting_needs_a_reason_and_keeps_the_submission(client):
    client.force_login(make_user("mona", "Moderators"))
    submission = new_listing()
    response = _review(client, submission, "reject")
    assert response.status_code == 200
    assert "A reason is required to reject a submission." in response.content.decode()
    submission.refresh_from_db()
    assert submission.status == "pending"

    response = _review(client, submission, "reject", reason="Duplicate of an existing listing.")
    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.status == "rejected" and submission.review_reason == "Duplicate of an existing listing."
    page = client.get(f"/admin/directory/submission/{submission.pk}/change/").content.decode()
    assert "Duplicate of an existing listing." in page and 'id="review-form"' not in page


def test_spam_and_corrections_through_the_admin(client, small_chain):
    client.force_login(make_user("mona", "Moderators"))
    spam = new_listing(name_en="Cheap pills")
    assert _review(client, spam, "spam").status_code == 302
    spam.refresh_from_db()
    assert spam.status == "spam"

    fix = correction(small_chain["openai"], country="GB")
    response = _review(client, fix, "approve")
    assert response.status_code == 302
    assert Participant.objects.get(slug="openai").country == "GB"
    messages = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert messages[-1] == "Approved: the correction to OpenAI is applied."  # not "is in the directory"


def test_a_correction_is_reviewed_field_by_field_and_may_add_links_and_offerings(client, small_chain):
    zhipu = small_chain["zhipu"]
    fix = correction(
        zhipu,
        country="SG",
        offerings=[{"segment": "agent-platforms", "name": "GLM Agents", "description": "", "url": ""}],
        suppliers=[{"participant": "azure", "kind": "compute"}],
    )
    client.force_login(make_user("mona", "Moderators"))
    page = client.get(f"/admin/directory/submission/{fix.pk}/change/").content.decode()
    assert 'class="changed" data-field="country"' in page
    assert '<td class="value current">China (CN)</td>' in page
    assert '<td class="value proposed">Singapore (SG)</td>' in page
    assert '<option value="SG" selected>' in page  # the editable field holds the proposal
    assert 'name="name_en" value="Zhipu AI"' in page  # not proposed: the current value
    assert 'name="offerings-0-name" value="GLM Agents"' in page
    assert 'name="suppliers-0-participant" value="azure"' in page

    response = _review(client, fix, "approve", country="CN", **{"customers-0-participant": "openai",
                                                                  "customers-0-kind": "model"})  # fmt: skip
    assert response.status_code == 302
    zhipu.refresh_from_db()
    assert zhipu.country == "CN"  # the moderator kept it
    assert zhipu.offerings.filter(name="GLM Agents", segment__slug="agent-platforms").exists()
    assert Relationship.objects.filter(supplier__slug="azure", customer=zhipu, kind="compute").exists()
    assert Relationship.objects.filter(supplier=zhipu, customer__slug="openai", kind="model").exists()


def test_a_correction_review_refuses_what_the_participant_has(client, small_chain):
    fix = correction(small_chain["azure"], customers=[{"participant": "openai", "kind": "compute"}])
    client.force_login(make_user("mona", "Moderators"))
    response = _review(client, fix, "approve")
    assert (
        response.status_code == 200 and "The directory already lists this link." in response.content.decode()
    )
    assert Relationship.objects.filter(supplier__slug="azure").count() == 1


def test_a_renamed_correction_lists_the_participant_it_may_duplicate(client, small_chain):
    fix = correction(small_chain["zhipu"], name_en="OpenAI")
    client.force_login(make_user("mona", "Moderators"))
    page = client.get(f"/admin/directory/submission/{fix.pk}/change/").content.decode()
    duplicates = re.search(r'<p class="errornote" id="duplicate-warning">(.*?)</p>', page, re.S).group(1)
    assert "OpenAI" in duplicates and "Zhipu" not in duplicates


def test_the_review_page_runs_a_fixed_number_of_queries(client, small_chain, django_assert_num_queries):
    submission = new_listing(suppliers=[{"participant": "nvidia", "kind": "chips"}])
    client.force_login(make_user("mona", "Moderators"))
    url = f"/admin/directory/submission/{submission.pk}/change/"
    with django_assert_num_queries(REVIEW_PAGE_QUERIES):
        assert client.get(url).status_code == 200


def test_submissions_cannot_be_added_or_deleted_by_moderators(client):
    client.force_login(make_user("mona", "Moderators"))
    submission = new_listing()
    assert client.get("/admin/directory/submission/add/").status_code == 403
    assert (
        client.post(f"/admin/directory/submission/{submission.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert Submission.objects.filter(pk=submission.pk).exists()


@pytest.mark.parametrize("data", [[], "text", {"offerings": "x"}, {"founded": 99999}, {"suppliers": [1, 2]}])
def test_malformed_proposals_never_cause_a_server_error(client, data):
    client.force_login(make_user("mona", "Moderators"))
    submission = Submission.objects.create(
        kind="new", data=data, submitter_name="x", submitter_email="x@x.org"
    )
    url = f"/admin/directory/submission/{submission.pk}/change/"
    assert client.get(url).status_code == 200
    response = _review(client, submission, "approve")
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    response = client.post(url, {"name_en": "X"})
    assert response.status_code == 200 and "Choose approve, reject or spam." in response.content.decode()
    submission.refresh_from_db()
    assert submission.status == "pending" and not Participant.objects.exists()


# Bulk decisions in the queue -------------------------------------------------------

QUEUE = "/admin/directory/submission/"


@pytest.fixture
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_the_queue_offers_reject_with_one_reason_and_spam(client):
    new_listing()
    client.force_login(make_user("mona", "Moderators"))
    body = client.get(QUEUE).content.decode()
    assert '<option value="reject_selected">Reject selected, with the reason given</option>' in body
    assert '<option value="mark_selected_as_spam">Mark selected as spam</option>' in body
    assert 'name="reason"' in body and 'placeholder="Why they are rejected (sent to each submitter)"' in body


def test_bulk_reject_gives_each_the_one_reason_and_mails_it(
    client, locmem_mail, django_capture_on_commit_callbacks
):
    first, second = new_listing(name_en="First"), new_listing(name_en="Second")
    done = new_listing(name_en="Done")
    Submission.objects.filter(pk=done.pk).update(status="approved")
    moderator = make_user("mona", "Moderators")
    client.force_login(moderator)
    post = {"action": "reject_selected", "_selected_action": [first.pk, second.pk, done.pk]}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            QUEUE + "?status=all",
            {**post, "reason": "Not part of the LLM chain."},
            HTTP_HOST="localhost:8123",
        )
    assert response.status_code == 302
    for submission in (first, second):
        submission.refresh_from_db()
        assert (submission.status, submission.review_reason, submission.reviewed_by) == (
            "rejected",
            "Not part of the LLM chain.",
            moderator,
        )
    assert Submission.objects.get(pk=done.pk).status == "approved"  # left as it was
    assert _messages_of(client.get(response["Location"])) == [
        "1 submission was reviewed already and is left as it was.",
        "2 submissions rejected.",
    ]
    assert len(mail.outbox) == 2
    assert all(
        "Not part of the LLM chain." in m.body and "http://localhost:8123/submissions/" in m.body
        for m in mail.outbox
    )


def test_bulk_reject_without_a_reason_changes_nothing(client, locmem_mail):
    submission = new_listing()
    client.force_login(make_user("mona", "Moderators"))
    response = client.post(
        QUEUE, {"action": "reject_selected", "_selected_action": [submission.pk], "reason": "  "}, follow=True
    )
    assert "Write the reason" in _messages_of(response)[0]
    submission.refresh_from_db()
    assert submission.status == "pending" and mail.outbox == []


def test_bulk_spam_mails_nobody(client, locmem_mail, django_capture_on_commit_callbacks):
    spam = [new_listing(name_en=f"Pills {i}") for i in range(3)]
    client.force_login(make_user("mona", "Moderators"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            QUEUE, {"action": "mark_selected_as_spam", "_selected_action": [s.pk for s in spam]}, follow=True
        )
    assert _messages_of(response) == ["3 submissions marked as spam."]
    assert set(Submission.objects.values_list("status", flat=True)) == {"spam"}
    assert mail.outbox == []


def test_an_approval_in_the_admin_mails_links_to_the_address_it_came_in_on(
    client, locmem_mail, django_capture_on_commit_callbacks
):
    submission = new_listing()
    client.force_login(make_user("mona", "Moderators"))
    post = {**proposal_post(submission).dict(), "reason": "", "_approve": "1"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{QUEUE}{submission.pk}/change/", post, HTTP_HOST="localhost:8123")
    participant = Participant.objects.get()
    (message,) = mail.outbox
    assert f"http://localhost:8123/participants/{participant.slug}/" in message.body
