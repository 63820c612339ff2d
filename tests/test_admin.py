"""The curators' admin: changelists, the moderation queue, actions, saves and history."""

import itertools
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from directory.models import Offering, Participant, Relationship, Segment, Submission
from tests.conftest import make_participant
from tests.curation import correction, make_user, new_listing

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/directory/participant/"


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


def test_a_new_listing_page_shows_the_proposal_and_possible_duplicates(client, small_chain):
    submission = new_listing(
        website="https://www.nvidia.com/x", suppliers=[{"participant": "gone", "kind": "chips"}]
    )
    Participant.objects.filter(slug="nvidia").update(
        website="https://www.nvidia.com/", website_domain="nvidia.com"
    )
    client.force_login(make_user("mona", "Moderators"))
    text = client.get(f"/admin/directory/submission/{submission.pk}/change/").content.decode()
    assert "Moonshot Data" in text and "Speech labelling" in text and "Data services" in text
    assert "Possible duplicates" in text and "NVIDIA" in text
    assert "no longer exists; will be skipped" in text


def _review(client, submission, action, **fields):
    data = {"proposed": json.dumps(submission.data), "reason": "", f"_{action}": "1", **fields}
    return client.post(f"/admin/directory/submission/{submission.pk}/change/", data)


def test_moderator_approves_an_edited_new_listing(client):
    moderator = make_user("mona", "Moderators")
    client.force_login(moderator)
    submission = new_listing()
    edited = {**submission.data, "name_en": "Moonshot Data Ltd"}

    response = _review(client, submission, "approve", proposed=json.dumps(edited))

    assert response.status_code == 302 and response["Location"] == "/admin/directory/submission/"
    participant = Participant.objects.get(name_en="Moonshot Data Ltd")
    assert participant.offerings.count() == 2 and participant.status == "published"
    submission.refresh_from_db()
    assert (submission.status, submission.reviewed_by, submission.participant) == (
        "approved",
        moderator,
        participant,
    )
    # A second click (another tab) applies nothing more.
    again = _review(client, submission, "approve")
    assert again.status_code == 403
    assert Participant.objects.filter(name_en__startswith="Moonshot").count() == 1


def test_bad_proposed_values_are_shown_as_errors_and_nothing_is_written(client):
    client.force_login(make_user("mona", "Moderators"))
    submission = new_listing()
    response = _review(
        client, submission, "approve", proposed=json.dumps({**submission.data, "country": "XX"})
    )
    assert response.status_code == 200
    assert "country" in response.content.decode() and "errorlist" in response.content.decode()
    response = _review(client, submission, "approve", proposed="{not json")
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not Participant.objects.exists()
    submission.refresh_from_db()
    assert submission.status == "pending"


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
    assert _review(client, fix, "approve").status_code == 302
    assert Participant.objects.get(slug="openai").country == "GB"


def test_submissions_cannot_be_added_or_deleted_by_moderators(client):
    client.force_login(make_user("mona", "Moderators"))
    submission = new_listing()
    assert client.get("/admin/directory/submission/add/").status_code == 403
    assert (
        client.post(f"/admin/directory/submission/{submission.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert Submission.objects.filter(pk=submission.pk).exists()


@pytest.mark.parametrize(
    "proposed",
    ["[]", '"text"', "null", '{"offerings": "x"}', '{"founded": 99999}', '{"suppliers": [1, 2]}'],
)
def test_malformed_proposals_never_cause_a_server_error(client, proposed):
    client.force_login(make_user("mona", "Moderators"))
    submission = new_listing()
    response = _review(client, submission, "approve", proposed=proposed)
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    response = client.post(f"/admin/directory/submission/{submission.pk}/change/", {"proposed": "{}"})
    assert response.status_code == 200 and "Choose approve, reject or spam." in response.content.decode()
    submission.refresh_from_db()
    assert submission.status == "pending" and not Participant.objects.exists()
