"""The submitter hears the decision: approved (with the public page) or rejected (with the
reason), after the commit, in both languages; a failing mail server blocks nothing; links
go to SITE_URL, else to the address the request came in on."""

import logging

import pytest
from django.core import mail
from django.test import override_settings

from directory.curation import moderation
from directory.models import Participant, Submission
from tests.curation import correction, make_user, new_listing
from tests.submission_data import new_listing as new_listing_post

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("_locmem_mail"),
]


@pytest.fixture
def _locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def moderator():
    return make_user("mona", "Moderators")


def test_approval_mails_the_public_page_after_commit(moderator, django_capture_on_commit_callbacks):
    submission = new_listing()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        participant = moderation.approve_submission(submission, moderator, site="https://chain.example")
    assert mail.outbox == []  # nothing before the commit
    for callback in callbacks:  # the cache invalidations, then the mail
        callback()
    (message,) = mail.outbox
    assert message.to == ["lin@example.com"]
    assert message.subject == (
        "Your chainsite submission was approved: Moonshot Data · 你的 chainsite 提交已通过：Moonshot Data"
    )
    assert f"https://chain.example/participants/{participant.slug}/" in message.body
    assert f"https://chain.example/submissions/{submission.token}/" in message.body
    assert "it is now listed in the chainsite directory" in message.body
    assert "已收录进 chainsite 名录" in message.body  # and in Chinese, after the English


def test_an_approved_correction_says_it_is_applied_not_new(
    small_chain, moderator, django_capture_on_commit_callbacks
):
    submission = correction(small_chain["nvidia"], founded=1993)
    with django_capture_on_commit_callbacks(execute=True):
        moderation.approve_submission(submission, moderator, site="http://x.example")
    (message,) = mail.outbox
    assert 'approved your correction to "NVIDIA"' in message.body
    assert "now listed" not in message.body
    assert "http://x.example/participants/nvidia/" in message.body


def test_rejection_mails_the_reason(moderator, django_capture_on_commit_callbacks):
    submission = new_listing()
    with django_capture_on_commit_callbacks(execute=True):
        moderation.reject_submission(
            submission, moderator, "Not an AI company.\nSee its site.", site="http://x"
        )
    (message,) = mail.outbox
    assert "not accepted" in message.subject and "未获通过" in message.subject
    assert "Not an AI company.\nSee its site." in message.body
    assert "/participants/" not in message.body
    assert f"http://x/submissions/{submission.token}/" in message.body


def test_spam_and_a_rolled_back_approval_mail_nobody(moderator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        moderation.mark_spam(new_listing(), moderator)
        with pytest.raises(Exception, match="at least one offering"):
            moderation.approve_submission(new_listing(offerings=[]), moderator)
    assert mail.outbox == []


@override_settings(EMAIL_BACKEND="tests.test_submit.FailingBackend")
def test_a_failing_mail_server_is_logged_and_blocks_nothing(
    moderator, caplog, django_capture_on_commit_callbacks
):
    submission = new_listing()
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        participant = moderation.approve_submission(submission, moderator)
    submission.refresh_from_db()
    assert submission.status == "approved" and Participant.objects.filter(pk=participant.pk).exists()
    assert (
        f"could not send directory/email/submission_decision.txt for submission {submission.pk}"
        in caplog.text
    )


def test_links_go_to_the_address_the_request_came_in_on(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/submit/", new_listing_post(), HTTP_HOST="localhost:8123")
    token = Submission.objects.get().token
    (confirmation,) = mail.outbox
    assert f"http://localhost:8123/submissions/{token}/" in confirmation.body
    assert "127.0.0.1:8000" not in confirmation.body


@override_settings(SITE_URL="https://chainsite.example")
def test_site_url_wins_over_the_request(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/submit/", new_listing_post(), HTTP_HOST="localhost:8123")
    (confirmation,) = mail.outbox
    assert "https://chainsite.example/submissions/" in confirmation.body and "8123" not in confirmation.body


def test_the_status_page_of_an_approved_listing_links_to_it(client, moderator):
    submission = new_listing()
    participant = moderation.approve_submission(submission, moderator)
    body = client.get(submission.get_absolute_url()).content.decode()
    assert f'<a href="/participants/{participant.slug}/">See Moonshot Data in the directory →</a>' in body
    participant.status = "archived"
    participant.save()
    assert "in the directory →" not in client.get(submission.get_absolute_url()).content.decode()
