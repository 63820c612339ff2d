"""The moderation queue: public submissions, reviewed one by one.

A submission's page shows what was proposed (for a correction, side by side with the
current values) and a review form; the decision itself is made by directory.services,
which the admin shares with any other caller.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.curation import moderation
from directory.curation.admin.filters import SubmissionStatusFilter
from directory.curation.matching import find_duplicates
from directory.curation.notifications import site_url
from directory.models import Participant, Segment, Submission, SubmissionKind, SubmissionStatus


class PrettyJSONField(forms.JSONField):
    """A JSON field shown indented, with Chinese left readable."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


class ReviewForm(forms.Form):
    """What a moderator sends: the (possibly edited) proposed values and a reason."""

    ACTIONS = ("approve", "reject", "spam")

    proposed = PrettyJSONField(
        label=gettext_lazy("Proposed values (edit before approving if needed)"),
        widget=forms.Textarea(attrs={"rows": 18, "cols": 90, "class": "vLargeTextField"}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason (required to reject; shown to the submitter)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 90}),
    )

    def __init__(self, *args, action=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action

    def clean(self):
        cleaned = super().clean()
        if self.action not in self.ACTIONS:
            raise ValidationError(_("Choose approve, reject or spam."))
        if self.action == "reject" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("A reason is required to reject a submission."))
        return cleaned


def _messages(error):
    """A service's ValidationError as flat "field: message" lines."""
    if hasattr(error, "error_dict"):
        return [f"{field}: {m}" for field, items in error.message_dict.items() for m in items]
    return error.messages


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "kind",
        "status",
        "submitter_name",
        "created_at",
        "reviewed_by",
        "reviewed_at",
    ]
    list_filter = [SubmissionStatusFilter, "kind"]
    list_select_related = ["participant", "reviewed_by"]
    search_fields = [
        "submitter_name",
        "submitter_email",
        "note",
        "participant__name_en",
        "participant__name_zh",
    ]
    autocomplete_fields = ["participant"]
    ordering = ["created_at"]
    list_per_page = 100
    review_template = "admin/directory/submission/review.html"

    def has_add_permission(self, request):
        """Submissions come from the public forms only."""
        return False

    def has_delete_permission(self, request, obj=None):
        """Moderation never deletes what a submitter sent; only a superuser can."""
        return request.user.is_active and request.user.is_superuser

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The review page: the proposal, and for a pending submission the review form."""
        submission = self.get_object(request, unquote(object_id))
        if submission is None:
            raise Http404
        if not self.has_view_or_change_permission(request, submission):
            raise PermissionDenied
        can_review = (
            self.has_change_permission(request, submission) and submission.status == SubmissionStatus.PENDING
        )
        form = ReviewForm(initial={"proposed": submission.data})
        if request.method == "POST":
            if not can_review:
                raise PermissionDenied
            action = next((a for a in ReviewForm.ACTIONS if f"_{a}" in request.POST), None)
            form = ReviewForm(request.POST, action=action)
            if form.is_valid():
                response = self._review(request, submission, form)
                if response:
                    return response
        return TemplateResponse(
            request, self.review_template, self._context(request, submission, form, can_review)
        )

    def _review(self, request, submission, form):
        data, reason = form.cleaned_data["proposed"], form.cleaned_data["reason"]
        try:
            if form.action == "approve":
                participant = moderation.approve_submission(
                    submission, request.user, data=data, site=site_url(request)
                )
                message = _("Approved: %(name)s is in the directory.") % {"name": participant}
            elif form.action == "reject":
                moderation.reject_submission(submission, request.user, reason, site=site_url(request))
                message = _("Rejected; the submitter will see your reason.")
            else:
                moderation.mark_spam(submission, request.user, reason)
                message = _("Marked as spam.")
        except moderation.SubmissionAlreadyReviewed as exc:
            self.message_user(request, str(exc), messages.WARNING)
            return redirect(request.path)
        except ValidationError as exc:
            form.add_error("reason" if form.action == "reject" else "proposed", _messages(exc))
            return None
        self.message_user(request, message, messages.SUCCESS)
        return redirect("admin:directory_submission_changelist")

    def _context(self, request, submission, form, can_review):
        context = {
            **self.admin_site.each_context(request),
            "title": str(submission),
            "opts": self.model._meta,
            "original": submission,
            "submission": submission,
            "form": form,
            "can_review": can_review,
            "submitted_json": json.dumps(submission.data, indent=2, ensure_ascii=False),
            "is_correction": submission.kind == SubmissionKind.CORRECTION,
            "media": self.media + form.media,
        }
        if submission.kind == SubmissionKind.CORRECTION:
            context["rows"] = moderation.correction_rows(submission)
            context["conflicts"] = [
                str(Participant._meta.get_field(name).verbose_name)
                for name in moderation.conflicting_fields(submission)
            ]
        else:
            context.update(_new_listing_context(submission))
        return context


def _new_listing_context(submission):
    """What a new-listing proposal looks like to a moderator, with look-ups: segment
    names, which linked participants still exist, and listings that may be duplicates."""
    data = submission.data if isinstance(submission.data, dict) else {}
    offerings = [o for o in data.get("offerings") or [] if isinstance(o, dict)]
    segments = {s.slug: s for s in Segment.objects.filter(slug__in=[o.get("segment") for o in offerings])}
    links = [
        (key, item)
        for key in ("suppliers", "customers")
        for item in data.get(key) or []
        if isinstance(item, dict)
    ]
    existing = {
        p.slug: p
        for p in Participant.objects.filter(slug__in=[str(item.get("participant")) for _, item in links])
    }
    # The same rule and the same matches the submitter was warned about.
    duplicates = find_duplicates(
        [str(data.get("name_en") or ""), str(data.get("name_zh") or "")],
        str(data.get("website") or ""),
        exclude_submission=submission,
    )
    return {
        "fields": [
            (Participant._meta.get_field(name).verbose_name, data.get(name))
            for name in moderation.PROPOSAL_FIELDS
        ],
        "offerings": [{**o, "segment_obj": segments.get(o.get("segment"))} for o in offerings],
        "links": [
            {
                "side": key,
                "slug": item.get("participant"),
                "kind": item.get("kind"),
                "found": existing.get(str(item.get("participant"))),
            }
            for key, item in links
        ],
        "duplicates": duplicates.participants,
        "duplicate_submissions": duplicates.submissions,
        "confirmed_different": data.get("confirmed_different"),
    }
