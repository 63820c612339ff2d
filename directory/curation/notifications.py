"""Emails about submissions: curators hear of a new one, the submitter gets its status link.

Mail is sent after the submission is committed (``transaction.on_commit``) and a failing
mail server is logged, never raised: the submission is already safe in the database and
the curators see it in the admin whether or not the mail went out.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from directory.models import SubmissionKind

logger = logging.getLogger(__name__)


def status_url(submission):
    """The absolute link to the submission's public status page."""
    return f"{settings.SITE_URL}{submission.get_absolute_url()}"


def _admin_url(submission):
    # The admin registration belongs to the curation side; without it the mail simply
    # leaves the link out.
    try:
        return f"{settings.SITE_URL}{reverse('admin:directory_submission_change', args=[submission.pk])}"
    except NoReverseMatch:
        return ""


def _subject_name(submission):
    if submission.participant is not None:
        name = str(submission.participant)
    else:
        name = submission.data.get("name_en") or submission.data.get("name_zh") or ""
    return " ".join(name.split())[:80]


def _send(subject, template, context, recipients, submission):
    try:
        send_mail(
            subject,
            render_to_string(template, context),
            settings.DEFAULT_FROM_EMAIL,
            recipients,
        )
    except Exception:
        # Any failure of the mail backend (SMTP down, refused, timeout) must not reach
        # the submitter: the submission is stored and curators find it in the admin.
        logger.exception("could not send %s for submission %s", template, submission.pk)
        return False
    return True


def notify_submission_received(submission):
    """Tell the curators (``settings.CURATOR_EMAILS``) about a new submission and send the
    submitter a confirmation with the status link. Returns how many mails went out."""
    context = {
        "submission": submission,
        "status_url": status_url(submission),
        "admin_url": _admin_url(submission),
        "name": _subject_name(submission),
        "changes": [
            (field, submission.original.get(field), value) for field, value in submission.data.items()
        ]
        if submission.kind == SubmissionKind.CORRECTION
        else [],
    }
    sent = 0
    if settings.CURATOR_EMAILS:
        sent += _send(
            _("[chainsite] New submission: %(name)s") % context,
            "directory/email/curator_new_submission.txt",
            context,
            settings.CURATOR_EMAILS,
            submission,
        )
    sent += _send(
        _("Your chainsite submission: %(name)s") % context,
        "directory/email/submission_received.txt",
        context,
        [submission.submitter_email],
        submission,
    )
    return sent
