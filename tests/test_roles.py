"""Curator roles: the Editors and Moderators groups and what each can do in the admin."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command

from directory.curation.admin.review import proposal_post
from directory.models import Participant
from tests.conftest import make_participant
from tests.curation import PASSWORD, correction, make_user, new_listing

pytestmark = pytest.mark.django_db

# 0005's models, then 0019's: sources, kinds of record, records.
DATA = ["segment", "tag", "participant", "offering", "relationship", "source", "recordkind", "record"]


def _codenames(group):
    return sorted(Group.objects.get(name=group).permissions.values_list("codename", flat=True))


def test_the_migration_creates_the_groups_with_exactly_their_permissions():
    assert _codenames("Editors") == sorted(f"{a}_{m}" for m in DATA for a in ("add", "change", "view"))
    assert _codenames("Moderators") == sorted(
        ["view_submission", "change_submission"] + [f"view_{m}" for m in DATA]
    )


def test_an_editor_edits_participants_but_cannot_review_submissions(client):
    participant = make_participant("editco")
    submission = new_listing()
    client.force_login(make_user("edith", "Editors"))

    assert client.get("/admin/directory/participant/").status_code == 200
    assert client.get("/admin/directory/participant/add/").status_code == 200
    assert client.get(f"/admin/directory/participant/{participant.pk}/change/").status_code == 200
    response = client.post(
        "/admin/directory/participant/", {"action": "feature", "_selected_action": [participant.pk]}
    )
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.featured

    assert client.get("/admin/directory/submission/").status_code == 403
    assert client.get(f"/admin/directory/submission/{submission.pk}/change/").status_code == 403
    response = client.post(
        f"/admin/directory/submission/{submission.pk}/change/",
        {"proposed": "{}", "reason": "", "_approve": "1"},
    )
    assert response.status_code == 403
    submission.refresh_from_db()
    assert submission.status == "pending"
    assert "Moderation queue" not in client.get("/admin/").content.decode()


def test_a_moderator_reviews_submissions_but_cannot_edit_participants(client):
    participant = make_participant("modco")
    fix = correction(participant, name_en="Mod Co Ltd")
    client.force_login(make_user("mona", "Moderators"))

    assert "1 pending submission" in client.get("/admin/").content.decode()
    assert client.get(f"/admin/directory/submission/{fix.pk}/change/").status_code == 200
    response = client.post(
        f"/admin/directory/submission/{fix.pk}/change/",
        {**proposal_post(fix).dict(), "reason": "", "_approve": "1"},
    )
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.name_en == "Mod Co Ltd"

    # Directory data is view-only for moderators.
    page = client.get(f"/admin/directory/participant/{participant.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    response = client.post(f"/admin/directory/participant/{participant.pk}/change/", {"name_en": "Hacked"})
    assert response.status_code == 403
    assert client.get("/admin/directory/participant/add/").status_code == 403
    response = client.post(
        "/admin/directory/participant/", {"action": "archive", "_selected_action": [participant.pk]}
    )
    participant.refresh_from_db()
    assert participant.name_en == "Mod Co Ltd" and participant.status == "published"
    assert client.get("/admin/directory/participant/import-csv/").status_code == 403


def test_create_curator_makes_a_staff_user_in_the_group(monkeypatch, client):
    monkeypatch.setenv("CURATOR_PASSWORD", PASSWORD)
    call_command("create_curator", "carol", "--email", "carol@example.com", "--role", "moderator")
    carol = User.objects.get(username="carol")
    assert carol.is_staff and not carol.is_superuser
    assert [g.name for g in carol.groups.all()] == ["Moderators"]
    response = client.post("/admin/login/?next=/admin/", {"username": "carol", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/directory/submission/").status_code == 200

    with pytest.raises(CommandError, match="already exists"):
        call_command("create_curator", "carol", "--role", "editor")
    monkeypatch.setenv("CURATOR_PASSWORD", "123")
    with pytest.raises(CommandError, match="too short"):
        call_command("create_curator", "dave", "--role", "editor")
    assert not User.objects.filter(username="dave").exists()
    assert Participant.objects.count() == 0


def test_editors_curate_sources_and_records_and_moderators_only_see_them(client):
    client.force_login(make_user("edith", "Editors"))
    for url in (
        "/admin/directory/record/add/",
        "/admin/directory/source/add/",
        "/admin/directory/recordkind/",
    ):
        assert client.get(url).status_code == 200, url
    client.force_login(make_user("mona", "Moderators"))
    assert client.get("/admin/directory/record/").status_code == 200
    assert client.get("/admin/directory/record/add/").status_code == 403
