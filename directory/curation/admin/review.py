"""The moderators' review form: a submission's proposal as real fields, validated by the
public forms themselves (one set of rules), instead of raw JSON.

The forms are always bound: to the submission's proposal when the page opens (so each
field shows what was proposed, and whatever the directory would refuse is marked before
anyone approves), then to what the moderator sends back.
"""

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.curation import moderation
from directory.curation.matching import find_duplicates
from directory.curation.moderation import RECORD_FIELDS, RECORD_SOURCE_FIELDS
from directory.models import PROPOSAL_FIELDS, Participant, SubmissionKind
from directory.web.forms import (
    CUSTOMERS,
    RECORDS,
    SUPPLIERS,
    LinkFormSet,
    NewLinkFormSet,
    NewOfferingFormSet,
    OfferingFormSet,
    ParticipantForm,
    RecordFormSet,
    changed_fields,
    shown_value,
)

OFFERINGS = "offerings"
OFFERING_FIELDS = ("segment", "name", "description", "url")
LINK_FIELDS = ("participant", "kind")


class DecisionForm(forms.Form):
    """The decision: which button was pressed, and the reason (required to reject)."""

    ACTIONS = ("approve", "reject", "spam")

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
            raise forms.ValidationError(_("Choose approve, reject or spam."))
        if self.action == "reject" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("A reason is required to reject a submission."))
        return cleaned


def _text(value):
    """A stored value as a form field sends it back."""
    if value is None or isinstance(value, bool):
        return ""
    return value if isinstance(value, str) else str(value)


def _items(data, key):
    """``data[key]`` as a list of dicts, whatever was stored there."""
    items = data.get(key)
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def proposal_post(submission):
    """The submission's proposal as the review forms' POST data: for a correction the
    participant's current values with the proposed ones in their place; the proposed
    offerings and supply links (and a correction's records), each with one empty row to
    add another."""
    data = submission.data if isinstance(submission.data, dict) else {}
    participant = submission.participant
    values = {}
    if submission.kind == SubmissionKind.CORRECTION and participant is not None:
        values = {name: getattr(participant, name) for name in PROPOSAL_FIELDS}
    values.update({name: data[name] for name in PROPOSAL_FIELDS if name in data})
    post = QueryDict(mutable=True)
    for name in PROPOSAL_FIELDS:
        post[name] = _text(values.get(name))
    parts = [(OFFERINGS, OFFERING_FIELDS), (SUPPLIERS, LINK_FIELDS), (CUSTOMERS, LINK_FIELDS)]
    if submission.kind == SubmissionKind.CORRECTION:
        parts.append((RECORDS, (*RECORD_FIELDS, *RECORD_SOURCE_FIELDS)))
    for prefix, fields in parts:
        items = [*_items(data, prefix), {}]
        post[f"{prefix}-TOTAL_FORMS"] = str(len(items))
        post[f"{prefix}-INITIAL_FORMS"] = "0"
        for i, item in enumerate(items):
            for name in fields:
                post[f"{prefix}-{i}-{name}"] = _text(item.get(name))
    return post


class ReviewForms:
    """The editable proposal of one submission: the participant's fields (the public
    ``ParticipantForm``), the offerings and the supply links (the public formsets; for a
    correction those that refuse what the participant already has, and the records it
    proposes). ``None`` parts when a correction's participant no longer exists."""

    def __init__(self, submission, post):
        self.submission = submission
        self.is_correction = submission.kind == SubmissionKind.CORRECTION
        participant = submission.participant if self.is_correction else None
        self.available = not (self.is_correction and participant is None)
        self.records = None
        if not self.available:
            self.participant_form = self.offerings = self.suppliers = self.customers = None
            return
        self.participant_form = ParticipantForm(post)
        if self.is_correction:
            self.offerings = NewOfferingFormSet(post, prefix=OFFERINGS, participant=participant)
            self.suppliers = NewLinkFormSet(post, prefix=SUPPLIERS, participant=participant)
            self.customers = NewLinkFormSet(post, prefix=CUSTOMERS, participant=participant)
            self.records = RecordFormSet(post, prefix=RECORDS, participant=participant)
        else:
            self.offerings = OfferingFormSet(post, prefix=OFFERINGS)
            self.suppliers = LinkFormSet(post, prefix=SUPPLIERS)
            self.customers = LinkFormSet(post, prefix=CUSTOMERS)

    @property
    def parts(self):
        parts = [self.participant_form, self.offerings, self.suppliers, self.customers]
        return [*parts, self.records] if self.records is not None else parts

    def is_valid(self):
        if not self.available:
            return False
        valid = [part.is_valid() for part in self.parts]  # each part shows its errors
        return all(valid)

    @property
    def has_errors(self):
        return self.available and any(
            part.errors if part is self.participant_form else part.total_error_count() for part in self.parts
        )

    def data(self):
        """The valid proposal in the ``Submission.data`` format, as ``approve_submission``
        takes it: a new listing's every field, or a correction's changed fields; the
        offerings and supply links (a correction's only when there are some)."""
        additions = {
            OFFERINGS: self.offerings.proposal(),
            SUPPLIERS: self.suppliers.proposal(),
            CUSTOMERS: self.customers.proposal(),
        }
        if self.is_correction:
            additions[RECORDS] = self.records.proposal()
            changed, _original = changed_fields(self.participant_form.proposal(), self.submission.participant)
            return {**changed, **{key: items for key, items in additions.items() if items}}
        stored = self.submission.data if isinstance(self.submission.data, dict) else {}
        return {
            **self.participant_form.proposal(),
            **additions,
            "confirmed_different": bool(stored.get("confirmed_different")),
        }

    def rows(self):
        """One row per participant field: label, the value now in the directory ("was",
        a correction's only) and when the submission was made, what was proposed, and
        the editable field; ``changed`` where the proposal differs from the directory,
        ``conflict`` where the directory changed since the submission."""
        data = self.submission.data if isinstance(self.submission.data, dict) else {}
        compared = {}
        if self.is_correction and isinstance(self.submission.data, dict):
            compared = {row["field"]: row for row in moderation.correction_rows(self.submission)}
        rows = []
        for name in PROPOSAL_FIELDS:
            row = compared.get(name, {})
            rows.append(
                {
                    "name": name,
                    "label": Participant._meta.get_field(name).verbose_name,
                    "field": self.participant_form[name],
                    "proposed": name in data,
                    "proposed_value": shown_value(name, data.get(name)),
                    "was": shown_value(name, row.get("current")),
                    "submitted": shown_value(name, row.get("original")),
                    "changed": row.get("changed", False),
                    "conflict": row.get("conflict", False),
                }
            )
        return rows

    def duplicates(self):
        """Participants and pending new listings that may be the same organisation as the
        names and website in the form now (``matching.find_duplicates``, the one rule);
        a correction's own participant is not one."""
        form = self.participant_form
        found = find_duplicates(
            [form.data.get("name_en", ""), form.data.get("name_zh", "")],
            form.data.get("website", ""),
            exclude_submission=self.submission,
        )
        own = self.submission.participant_id if self.is_correction else None
        found.participants = [p for p in found.participants if p.pk != own]
        return found
