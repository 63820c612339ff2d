"""The moderation queue: public submissions, reviewed one by one or rejected and marked
as spam in bulk.

A submission's page shows what was proposed (for a correction, side by side with the
current values) as a form the moderator can correct (review.py), with the possible
duplicates; the decision itself is made by directory.curation.moderation, which the
admin shares with any other caller.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from directory.curation import moderation
from directory.curation.admin.filters import SubmissionStatusFilter
from directory.curation.admin.review import DecisionForm, ReviewForms, proposal_post
from directory.curation.notifications import site_url
from directory.models import Participant, Submission, SubmissionKind, SubmissionStatus

MAX_REASON = 2000


class DecisionActionForm(ActionForm):
    """The queue's action bar, with the one reason a bulk rejection sends every submitter."""

    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=MAX_REASON,
        widget=forms.TextInput(
            attrs={"size": 48, "placeholder": gettext_lazy("Why they are rejected (sent to each submitter)")}
        ),
    )


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
    action_form = DecisionActionForm
    actions = ["reject_selected", "mark_selected_as_spam"]

    def has_add_permission(self, request):
        """Submissions come from the public forms only."""
        return False

    def has_delete_permission(self, request, obj=None):
        """Moderation never deletes what a submitter sent; only a superuser can."""
        return request.user.is_active and request.user.is_superuser

    @admin.action(permissions=["change"], description=gettext_lazy("Reject selected, with the reason given"))
    def reject_selected(self, request, queryset):
        """Reject every selected pending submission with the one reason from the action bar."""
        reason = request.POST.get("reason", "").strip()
        if not reason or len(reason) > MAX_REASON:
            self.message_user(
                request,
                _(
                    "Write the reason (at most %(max)d characters) beside the action: "
                    "each submitter is sent it."
                )
                % {"max": MAX_REASON},
                messages.ERROR,
            )
            return
        site = site_url(request)
        done = self._decide_each(
            request, queryset, lambda s: moderation.reject_submission(s, request.user, reason, site=site)
        )
        self.message_user(
            request,
            ngettext("%(count)d submission rejected.", "%(count)d submissions rejected.", done)
            % {"count": done},
            messages.SUCCESS,
        )

    @admin.action(permissions=["change"], description=gettext_lazy("Mark selected as spam"))
    def mark_selected_as_spam(self, request, queryset):
        """Mark every selected pending submission as spam (the reason, if given, is kept)."""
        reason = request.POST.get("reason", "").strip()[:MAX_REASON]
        done = self._decide_each(request, queryset, lambda s: moderation.mark_spam(s, request.user, reason))
        self.message_user(
            request,
            ngettext("%(count)d submission marked as spam.", "%(count)d submissions marked as spam.", done)
            % {"count": done},
            messages.SUCCESS,
        )

    def _decide_each(self, request, queryset, decide):
        """``decide`` each selected submission in its own transaction; those reviewed
        already are left as they are, with a warning. Returns how many were decided."""
        done = skipped = 0
        for submission in queryset.select_related("participant"):
            try:
                decide(submission)
            except moderation.SubmissionAlreadyReviewed:
                skipped += 1
            else:
                done += 1
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d submission was reviewed already and is left as it was.",
                    "%(count)d submissions were reviewed already and are left as they were.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
        return done

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
        if request.method == "POST" and not can_review:
            raise PermissionDenied
        post = request.POST if request.method == "POST" else None
        proposal = ReviewForms(submission, post if post is not None else proposal_post(submission))
        action = next((a for a in DecisionForm.ACTIONS if f"_{a}" in request.POST), None)
        decision = DecisionForm(post, action=action) if post is not None else DecisionForm()
        if post is not None and decision.is_valid():
            response = self._review(request, submission, proposal, decision)
            if response:
                return response
        return TemplateResponse(
            request, self.review_template, self._context(request, submission, proposal, decision, can_review)
        )

    def _review(self, request, submission, proposal, decision):
        """Apply the decision; a redirect when done, ``None`` to show the page again with
        the errors."""
        site, reason = site_url(request), decision.cleaned_data["reason"]
        try:
            if decision.action == "approve":
                if not proposal.is_valid():
                    decision.add_error(None, _("Correct the proposal below before approving it."))
                    return None
                participant = moderation.approve_submission(
                    submission, request.user, data=proposal.data(), site=site
                )
                if submission.kind == SubmissionKind.CORRECTION:
                    message = _("Approved: the correction to %(name)s is applied.") % {"name": participant}
                else:
                    message = _("Approved: %(name)s is in the directory.") % {"name": participant}
            elif decision.action == "reject":
                moderation.reject_submission(submission, request.user, reason, site=site)
                message = _("Rejected; the submitter will see your reason.")
            else:
                moderation.mark_spam(submission, request.user, reason)
                message = _("Marked as spam.")
        except moderation.SubmissionAlreadyReviewed as exc:
            self.message_user(request, str(exc), messages.WARNING)
            return redirect(request.path)
        except ValidationError as exc:
            # What the forms cannot see (the directory changed meanwhile) is said here.
            decision.add_error("reason" if decision.action == "reject" else None, _messages(exc))
            return None
        self.message_user(request, message, messages.SUCCESS)
        return redirect("admin:directory_submission_changelist")

    def _context(self, request, submission, proposal, decision, can_review):
        context = {
            **self.admin_site.each_context(request),
            "title": str(submission),
            "opts": self.model._meta,
            "original": submission,
            "submission": submission,
            "proposal": proposal,
            "decision": decision,
            "can_review": can_review,
            "submitted_json": json.dumps(submission.data, indent=2, ensure_ascii=False),
            "is_correction": proposal.is_correction,
            "media": self.media + decision.media,
        }
        if proposal.available:
            duplicates = proposal.duplicates()
            context.update(
                {
                    "rows": proposal.rows(),
                    "duplicates": duplicates.participants,
                    "duplicate_submissions": duplicates.submissions,
                    "confirmed_different": isinstance(submission.data, dict)
                    and submission.data.get("confirmed_different"),
                    "link_formsets": [
                        (proposal.suppliers, _("Suppliers: participants that supply it")),
                        (proposal.customers, _("Customers: participants it supplies")),
                    ],
                }
            )
        if proposal.is_correction and isinstance(submission.data, dict):
            context["conflicts"] = [
                str(Participant._meta.get_field(name).verbose_name)
                for name in moderation.conflicting_fields(submission)
            ]
        return context
