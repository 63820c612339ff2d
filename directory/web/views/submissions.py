"""Public submissions: propose a new listing, suggest a correction, follow its status.

Nothing submitted here is published: it is stored as a pending ``Submission`` for the
curators. The submission is committed before any mail is sent, so a failing mail
server never loses it.
"""

from functools import partial

from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from directory.curation.notifications import notify_submission_received, site_url
from directory.models import (
    PROPOSAL_FIELDS,
    Participant,
    RecordKind,
    RelationshipKind,
    Segment,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)
from directory.web import submission_limit
from directory.web.client_ip import client_ip
from directory.web.forms import (
    CUSTOMERS,
    RECORDS,
    SUPPLIERS,
    LinkFormSet,
    NewLinkFormSet,
    NewOfferingFormSet,
    NewParticipantForm,
    OfferingFormSet,
    ParticipantForm,
    RecordFormSet,
    SubmitterForm,
    changed_fields,
    link_suggestions,
    shown_value,
)


def _submitter_ip(request):
    """The address the submission limit counts (a request without one counts as one)."""
    return client_ip(request) or "unknown"


def _limit_wait(request, forms):
    """Seconds the submitter must wait when every one of ``forms`` is valid but the
    address is over the submission limit, else 0. Forms are validated first (each
    ``is_valid`` runs, no short-circuit), so mistakes are shown as usual and never counted."""
    valid = [form.is_valid() for form in forms]
    if not all(valid):
        return 0
    return submission_limit.retry_after(_submitter_ip(request))


def _render_form(request, template, context, wait):
    """The form page; over the limit, the same page with what was typed and the limit
    message, as a 429 with ``Retry-After`` (nothing stored)."""
    if not wait:
        return render(request, template, context)
    context = {**context, "limit_minutes": max(1, wait // 60)}
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(wait)
    return response


def _store(request, submission, submitter_form):
    """Save ``submission`` with the submitter's fields, then (after commit) send the mails.

    A honeypot hit is stored as spam, counted and logged, and mails nobody; the response
    looks the same as for a real submission so a bot learns nothing.
    """
    ip = _submitter_ip(request)
    submission.ip_address = ip if ip != "unknown" else None
    if submitter_form.is_spam:
        submission.status = SubmissionStatus.SPAM
    with transaction.atomic():
        submission.save()
        if submission.status != SubmissionStatus.SPAM:
            transaction.on_commit(
                partial(notify_submission_received, submission, site_url(request)), robust=True
            )
    submission_limit.count_submission(ip)
    if submission.status == SubmissionStatus.SPAM:
        submission_limit.count_honeypot(ip)
    return redirect(submission)


def _optional(formset_class, post, prefix, **kwargs):
    """Optional rows (supply links; a correction's new offerings): a script that sends
    none may leave out their management form too."""
    data = post.copy()
    data.setdefault(f"{prefix}-TOTAL_FORMS", "0")
    data.setdefault(f"{prefix}-INITIAL_FORMS", "0")
    return formset_class(data, prefix=prefix, **kwargs)


def submit(request):
    """``/submit/``: propose a new participant with its offerings and supply links."""
    wait = 0
    if request.method == "POST":
        participant_form = NewParticipantForm(request.POST)
        offerings = OfferingFormSet(request.POST)
        suppliers = _optional(LinkFormSet, request.POST, SUPPLIERS)
        customers = _optional(LinkFormSet, request.POST, CUSTOMERS)
        submitter_form = SubmitterForm(request.POST, instance=Submission(kind=SubmissionKind.NEW))
        forms = (participant_form, offerings, suppliers, customers, submitter_form)
        wait = _limit_wait(request, forms)
        if all(f.is_valid() for f in forms) and not wait:
            submission = submitter_form.save(commit=False)
            submission.data = {
                **participant_form.proposal(),
                "offerings": offerings.proposal(),
                "suppliers": suppliers.proposal(),
                "customers": customers.proposal(),
            }
            return _store(request, submission, submitter_form)
    else:
        participant_form = NewParticipantForm()
        offerings = OfferingFormSet()
        suppliers = LinkFormSet(prefix=SUPPLIERS)
        customers = LinkFormSet(prefix=CUSTOMERS)
        submitter_form = SubmitterForm()
    context = {
        "form": participant_form,
        "offerings": offerings,
        "suppliers": suppliers,
        "customers": customers,
        "link_formsets": [
            (suppliers, _("Its suppliers: participants that supply it")),
            (customers, _("Its customers: participants it supplies")),
        ],
        "submitter_form": submitter_form,
        "link_suggestions": link_suggestions(),
    }
    return _render_form(request, "directory/submit.html", context, wait)


def _correction_forms(request, participant):
    """The correction form's parts, bound to the POST if there is one: the participant's
    fields (prefilled with the current values), new offerings, new supplier and customer
    links, new records with their sources, and the submitter."""
    current = {name: getattr(participant, name) for name in PROPOSAL_FIELDS}
    post = request.POST if request.method == "POST" else None
    if post is None:
        return (
            ParticipantForm(initial=current),
            NewOfferingFormSet(prefix="offerings", participant=participant),
            NewLinkFormSet(prefix=SUPPLIERS, participant=participant),
            NewLinkFormSet(prefix=CUSTOMERS, participant=participant),
            RecordFormSet(prefix=RECORDS, participant=participant),
            SubmitterForm(),
        )
    return (
        ParticipantForm(post, initial=current),
        _optional(NewOfferingFormSet, post, "offerings", participant=participant),
        _optional(NewLinkFormSet, post, SUPPLIERS, participant=participant),
        _optional(NewLinkFormSet, post, CUSTOMERS, participant=participant),
        _optional(RecordFormSet, post, RECORDS, participant=participant),
        SubmitterForm(post, instance=Submission(kind=SubmissionKind.CORRECTION, participant=participant)),
    )


def _correction_data(participant, form, offerings, suppliers, customers, records):
    """``(data, original)`` of a valid correction: the changed fields and the proposed
    additions (only those given) in the ``Submission.data`` format, and the current values."""
    data, original = changed_fields(form.proposal(), participant)
    additions = {
        "offerings": offerings.proposal(),
        SUPPLIERS: suppliers.proposal(),
        CUSTOMERS: customers.proposal(),
        RECORDS: records.proposal(),
    }
    return {**data, **{key: items for key, items in additions.items() if items}}, original


def suggest(request, slug):
    """``/participants/<slug>/suggest/``: propose changes to a published participant:
    its fields, and new offerings, supply links and records (each with its source).

    Only the fields that differ from the current values are stored, with all current
    values beside them; a form with no change and nothing added is refused.
    """
    participant = get_object_or_404(Participant.objects.published(), slug=slug)
    forms = _correction_forms(request, participant)
    form, offerings, suppliers, customers, records, submitter_form = forms
    wait = 0
    if request.method == "POST":
        wait = _limit_wait(request, forms)
        if all(f.is_valid() for f in forms):
            data, original = _correction_data(participant, form, offerings, suppliers, customers, records)
            if not data:
                wait = 0  # nothing to send: say so, not "wait"
                form.add_error(None, _("Nothing has changed: edit the fields that are wrong, then send."))
            elif not wait:
                submission = submitter_form.save(commit=False)
                submission.data, submission.original = data, original
                return _store(request, submission, submitter_form)
    context = {
        "participant": participant,
        "form": form,
        "offerings": offerings,
        "link_formsets": [
            (suppliers, _("New suppliers: participants that supply it")),
            (customers, _("New customers: participants it supplies")),
        ],
        "records": records,
        "submitter_form": submitter_form,
        "link_suggestions": link_suggestions(),
    }
    return _render_form(request, "directory/suggest.html", context, wait)


def _field_rows(submission):
    """Label, proposed value, value at submission time and link for each field sent."""
    labels = {name: field.label for name, field in ParticipantForm.base_fields.items()}
    labels["founded"] = _("Founded (year)")
    names = (
        [n for n in PROPOSAL_FIELDS if n in submission.data]
        if submission.kind == SubmissionKind.CORRECTION
        else PROPOSAL_FIELDS
    )
    return [
        {
            "label": labels[name],
            "value": shown_value(name, submission.data.get(name)),
            "original": shown_value(name, submission.original.get(name)),
            # Made a link by the template's safe_url filter only if it is http(s).
            "url": submission.data.get(name) if name == "website" else "",
        }
        for name in names
    ]


def _proposed_parts(submission):
    """Offerings, supply links and records a submission proposes (all of a new listing's;
    those a correction adds), with segment, participant and record kind names (one
    query each, none when there are none)."""
    offerings = submission.data.get("offerings") or []
    links = [*(submission.data.get("suppliers") or []), *(submission.data.get("customers") or [])]
    segments = (
        Segment.objects.in_bulk({o.get("segment") for o in offerings}, field_name="slug") if offerings else {}
    )
    participants = (
        Participant.objects.in_bulk({link.get("participant") for link in links}, field_name="slug")
        if links
        else {}
    )

    def link_rows(key):
        return [
            {
                "participant": participants.get(link.get("participant")),
                "slug": link.get("participant"),
                "kind": RelationshipKind(link["kind"]).label
                if link.get("kind") in RelationshipKind.values
                else link.get("kind"),
            }
            for link in submission.data.get(key) or []
        ]

    records = [r for r in submission.data.get(RECORDS) or [] if isinstance(r, dict)]
    kinds = RecordKind.objects.in_bulk({r.get("kind") for r in records}, field_name="slug") if records else {}
    return {
        "records": [{**r, "kind_obj": kinds.get(r.get("kind"))} for r in records],
        "offerings": [{**o, "segment_obj": segments.get(o.get("segment"))} for o in offerings],
        "suppliers": link_rows("suppliers"),
        "customers": link_rows("customers"),
    }


@never_cache
def submission_status(request, token):
    """``/submissions/<token>/``: what was sent and what became of it. Not for search
    engines: the token is the submitter's private key to this page."""
    submission = get_object_or_404(Submission.objects.select_related("participant"), token=token)
    context = {
        "submission": submission,
        "rows": _field_rows(submission),
        "public_status": SubmissionStatus.REJECTED.label
        if submission.status == SubmissionStatus.SPAM
        else submission.get_status_display(),
        "reviewed": submission.status != SubmissionStatus.PENDING and submission.reviewed_at,
    }
    context.update(_proposed_parts(submission))
    response = render(request, "directory/submission_status.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
