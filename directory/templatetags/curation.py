"""Template helpers for the admin."""

from django import template

from directory.models import Submission

register = template.Library()


@register.simple_tag
def pending_submission_count():
    """How many submissions wait in the moderation queue."""
    return Submission.objects.pending().count()
