"""Emails about submissions: curators hear of a new one, the submitter gets its status
link, and later the decision (approved, with a link to the public page; or rejected, with
the reason).

Mail is sent after the submission or the decision is committed (``transaction.on_commit``)
and a failing mail server is logged, never raised: the submission and the decision are
already safe in the database, and the status page shows them whether or not the mail went
out.

Links in mails are absolute: ``site_url`` gives their scheme and host.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _

from directory.models import PROPOSAL_FIELDS, SubmissionKind, SubmissionStatus

logger = logging.getLogger(__name__)
# Decisions are mailed in both languages: the submitter's is not stored, and the curator
# deciding may read the other one.
DECISION_LANGUAGES = ("en", "zh-hans")


def site_url(request=None):
    """Scheme and host for the links in mails: ``settings.SITE_URL`` when set, else the
    address ``request`` came in on (its host checked against ``ALLOWED_HOSTS``); without
    either, "" (links relative to the site)."""
    if settings.SITE_URL:
        return settings.SITE_URL
    if request is not None:
        return f"{request.scheme}://{request.get_host()}"
    return ""


def status_url(submission, site=""):
    """The absolute link to the submission's public status page."""
    return f"{site}{submission.get_absolute_url()}"


def _admin_url(submission, site):
    # The admin registration belongs to the curation side; without it the mail simply
    # leaves the link out.
    try:
        return f"{site}{reverse('admin:directory_submission_change', args=[submission.pk])}"
    except NoReverseMatch:
        return ""


def _subject_name(submission):
    if submission.participant is not None:
        name = str(submission.participant)
    else:
        name = submission.data.get("name_en") or submission.data.get("name_zh") or ""
    return " ".join(name.split())[:80]


def _send(subject, body, recipients, submission, what):
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:
        # Any failure of the mail backend (SMTP down, refused, timeout) must not reach
        # the submitter or the curator: what the mail tells is stored already.
        logger.exception("could not send %s for submission %s", what, submission.pk)
        return False
    return True


def _additions(submission):
    """A correction's proposed offerings, supply links and records, one line each."""
    data = submission.data
    lines = [f"offering: {o.get('segment')}: {o.get('name')}" for o in data.get("offerings") or []]
    lines += [
        f"supplier: {link.get('participant')} ({link.get('kind')})" for link in data.get("suppliers") or []
    ]
    lines += [
        f"customer: {link.get('participant')} ({link.get('kind')})" for link in data.get("customers") or []
    ]
    lines += [
        f"record: {r.get('kind')} {r.get('date')}, "
        f"source: {r.get('source_publisher')}, {r.get('source_title')} ({r.get('source_date')})"
        for r in data.get("records") or []
    ]
    return lines


def notify_submission_received(submission, site=""):
    """Tell the curators (``settings.CURATOR_EMAILS``) about a new submission and send the
    submitter a confirmation with the status link (``site``: see ``site_url``). Returns
    how many mails went out."""
    context = {
        "submission": submission,
        "status_url": status_url(submission, site),
        "admin_url": _admin_url(submission, site),
        "name": _subject_name(submission),
        "changes": [
            (field, submission.original.get(field), value)
            for field, value in submission.data.items()
            if field in PROPOSAL_FIELDS
        ]
        if submission.kind == SubmissionKind.CORRECTION
        else [],
        "additions": _additions(submission) if submission.kind == SubmissionKind.CORRECTION else [],
    }
    sent = 0
    if settings.CURATOR_EMAILS:
        template = "directory/email/curator_new_submission.txt"
        sent += _send(
            _("[chainsite] New submission: %(name)s") % context,
            render_to_string(template, context),
            settings.CURATOR_EMAILS,
            submission,
            template,
        )
    template = "directory/email/submission_received.txt"
    sent += _send(
        _("Your chainsite submission: %(name)s") % context,
        render_to_string(template, context),
        [submission.submitter_email],
        submission,
        template,
    )
    return sent


def notify_decision(submission, site=""):
    """Tell the submitter what became of ``submission``: approved, with the link to the
    participant's public page; or rejected, with the curator's reason. Spam and pending
    submissions mail nobody. Returns how many mails went out (0 or 1)."""
    if submission.status not in (SubmissionStatus.APPROVED, SubmissionStatus.REJECTED):
        return 0
    participant = submission.participant
    page = ""
    if participant is not None and participant.is_published:
        page = f"{site}{participant.get_absolute_url()}"
    context = {
        "submission": submission,
        "name": _subject_name(submission),
        "status_url": status_url(submission, site),
        "page_url": page,
        "approved": submission.status == SubmissionStatus.APPROVED,
    }
    template = "directory/email/submission_decision.txt"
    subjects, bodies = [], []
    for language in DECISION_LANGUAGES:
        with translation.override(language):
            if context["approved"]:
                subjects.append(_("Your chainsite submission was approved: %(name)s") % context)
            else:
                subjects.append(_("Your chainsite submission was not accepted: %(name)s") % context)
            bodies.append(render_to_string(template, context))
    sent = _send(
        " · ".join(subjects), "\n\n".join(bodies), [submission.submitter_email], submission, template
    )
    return int(sent)
