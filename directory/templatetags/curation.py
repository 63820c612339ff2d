"""Template helpers for the admin."""

from django import template
from django.utils.translation import ngettext

from directory.models import Submission

register = template.Library()


@register.simple_tag
def pending_submission_count():
    """How many submissions wait in the moderation queue."""
    return Submission.objects.pending().count()


@register.filter
def duration(value):
    """A ``timedelta`` in words of the active language, to the minute: "1 hour",
    "90 minutes" (the lockout page's wait, which Django would show as 1:00:00)."""
    minutes = max(1, round(value.total_seconds() / 60))
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
