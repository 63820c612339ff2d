"""Writes that span several models: moderating public submissions.

The admin and any later caller (an API, a command) share these functions, so a
submission is applied the same way whoever approves it. Each runs in one transaction
with the submission's row locked, so approving twice, or two curators approving at
once, applies a submission exactly once.
"""

from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.catalog.search import refresh_search_index
from directory.curation import matching
from directory.curation.notifications import notify_decision
from directory.models import (
    PROPOSAL_FIELDS,
    Offering,
    Participant,
    Record,
    RecordKind,
    RecordStatus,
    Relationship,
    RelationshipKind,
    Segment,
    Source,
    Status,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    validate_founded,
)

# What a submission may propose besides PROPOSAL_FIELDS: offerings and supply links (all
# of a new listing's; those a correction adds), and a new listing's duplicate check; a
# correction may also propose compliance records, each with its source.
ADDITION_KEYS = ["offerings", "suppliers", "customers"]
NEW_LISTING_EXTRA_KEYS = {*ADDITION_KEYS, "confirmed_different"}
CORRECTION_KEYS = [*ADDITION_KEYS, "records"]
# A proposed record's keys: the records CSV's column names (docs/curators.md).
RECORD_FIELDS = ("kind", "status", "date", "end_date", "identifier", "entity_name")
RECORD_SOURCE_FIELDS = ("source_publisher", "source_title", "source_date", "source_url")


class SubmissionAlreadyReviewed(Exception):
    """The submission is no longer pending: someone reviewed it first."""

    def __init__(self, submission):
        self.submission = submission
        super().__init__(
            _("This submission was already reviewed (%(status)s).")
            % {"status": submission.get_status_display()}
        )


def same_value(a, b):
    """Equal as a curator would see them: ``None`` and ``""`` alike, ``2019`` and ``"2019"`` alike."""
    return ("" if a is None else str(a)) == ("" if b is None else str(b))


def conflicting_fields(submission):
    """For a correction: the fields whose current value differs from the value the
    submitter saw (``Submission.original``), i.e. the participant changed since."""
    participant = submission.participant
    if submission.kind != SubmissionKind.CORRECTION or participant is None:
        return []
    return [
        name
        for name in PROPOSAL_FIELDS
        if name in submission.original
        and not same_value(getattr(participant, name), submission.original[name])
    ]


def correction_rows(submission):
    """Rows for the side-by-side view of a correction: field, value when submitted,
    current value, proposed value, whether proposed differs from current, and whether
    the participant changed since the submission."""
    participant = submission.participant
    conflicts = set(conflicting_fields(submission))
    rows = []
    for name in PROPOSAL_FIELDS:
        current = getattr(participant, name) if participant else None
        proposed = submission.data.get(name, current)
        rows.append(
            {
                "field": name,
                "label": Participant._meta.get_field(name).verbose_name,
                "original": submission.original.get(name),
                "current": current,
                "proposed": proposed,
                "changed": name in submission.data and not same_value(current, proposed),
                "conflict": name in conflicts,
            }
        )
    return rows


def _lock_pending(submission):
    locked = Submission.objects.select_for_update().get(pk=submission.pk)
    if locked.status != SubmissionStatus.PENDING:
        raise SubmissionAlreadyReviewed(locked)
    return locked


def _finish(submission, locked, by, status, reason=""):
    locked.status = status
    locked.reviewed_by = by
    locked.reviewed_at = timezone.now()
    locked.review_reason = reason
    fields = ["status", "reviewed_by", "reviewed_at", "review_reason", "participant"]
    locked.save(update_fields=fields)
    # Let the caller's object reflect what was stored.
    for name in fields:
        setattr(submission, name, getattr(locked, name))


def _scalar_values(data, names):
    values = {}
    for name in names:
        value = data.get(name)
        if name == "founded":
            if value in (None, ""):
                value = None
            elif isinstance(value, bool) or not str(value).isdigit():
                raise ValidationError({name: _("Enter a year.")})
            else:
                value = int(value)
                try:
                    validate_founded(value)
                except ValidationError as exc:
                    raise ValidationError({name: exc.messages}) from None
        elif name == "country":
            value = ("" if value is None else str(value)).strip().upper()
        else:
            value = "" if value is None else str(value).strip()
        values[name] = value
    return values


def _check_participant(participant, exclude=()):
    """Run the model's validation (choices, lengths, URL, country code, constraints)."""
    participant.full_clean(exclude=["slug", *exclude], validate_unique=False)


def _check_keys(data, allowed):
    if not isinstance(data, dict):
        raise ValidationError(_("The proposed values must be a JSON object."))
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError(_("Unknown field(s): %(fields)s") % {"fields": ", ".join(unknown)})


def _offerings(data, required=True):
    """Validate ``data["offerings"]``: a list of {segment slug, name, description, url};
    a new listing (``required``) needs one at least."""
    items = data.get("offerings") or []
    if not isinstance(items, list):
        raise ValidationError(_("offerings must be a list."))
    slugs = {item.get("segment") for item in items if isinstance(item, dict)}
    segments = {s.slug: s for s in Segment.objects.filter(slug__in=slugs)}
    offerings, seen = [], set()
    for item in items:
        if not isinstance(item, dict) or item.get("segment") not in segments:
            raise ValidationError(_("Each offering needs an existing segment slug."))
        segment = segments[item["segment"]]
        name = str(item.get("name") or "").strip()
        offering = Offering(
            segment=segment,
            name=name,
            description=str(item.get("description") or "").strip(),
            url=str(item.get("url") or "").strip(),
        )
        offering.full_clean(exclude=["participant"], validate_unique=False, validate_constraints=False)
        if (segment.pk, name) not in seen:
            seen.add((segment.pk, name))
            offerings.append(offering)
    if required and not offerings:
        raise ValidationError(_("A new listing needs at least one offering."))
    return offerings


def _links(data, key):
    """``data[key]`` as (existing participant, kind) pairs; links to participants that
    no longer exist are skipped."""
    items = data.get(key) or []
    if not isinstance(items, list):
        raise ValidationError(_("%(key)s must be a list.") % {"key": key})
    slugs = {str(item.get("participant")) for item in items if isinstance(item, dict)}
    found = {p.slug: p for p in Participant.objects.filter(slug__in=slugs)}
    links = []
    for item in items:
        if not isinstance(item, dict) or item.get("kind") not in RelationshipKind.values:
            raise ValidationError(
                _("Each of %(key)s needs a participant slug and a kind among: %(kinds)s")
                % {"key": key, "kinds": ", ".join(RelationshipKind.values)}
            )
        participant = found.get(str(item.get("participant")))
        if participant is not None and (participant, item["kind"]) not in links:
            links.append((participant, item["kind"]))
    return links


def build_record(item, kinds=None):
    """``(Record, Source)`` from one proposed record (a dict with ``RECORD_FIELDS`` and
    ``RECORD_SOURCE_FIELDS``), unsaved and validated by the models' own rules (status and
    dates agree, partial dates, an http(s) source URL); a source with publisher, title
    and date is required. ``kinds``: ``{slug: RecordKind}`` when the caller read them.
    Raises ``ValidationError`` keyed by the proposal's field names. The public form and
    the approval both call this: one rule."""
    text = {name: str(item.get(name) or "").strip() for name in (*RECORD_FIELDS, *RECORD_SOURCE_FIELDS)}
    kinds = kinds if kinds is not None else {k.slug: k for k in RecordKind.objects.filter(slug=text["kind"])}
    errors = {}
    if text["kind"] not in kinds:
        errors["kind"] = [_("Choose a kind of record.")]
    for name, message in (
        ("date", _("Give the date of the record (YYYY, YYYY-MM or YYYY-MM-DD).")),
        ("source_publisher", _("A record needs its source: who published it.")),
        ("source_title", _("A record needs its source: the document's title.")),
        ("source_date", _("A record needs its source: when it was published.")),
    ):
        if not text[name]:
            errors[name] = [message]
    if errors:
        raise ValidationError(errors)
    record = Record(
        kind=kinds[text["kind"]],
        status=text["status"] or RecordStatus.IN_FORCE,
        date=text["date"],
        end_date=text["end_date"],
        identifier=text["identifier"],
        entity_name=text["entity_name"],
    )
    source = Source(
        publisher=text["source_publisher"],
        title=text["source_title"],
        published=text["source_date"],
        url=text["source_url"],
    )
    for obj, names in (
        (record, {"date": "date", "end_date": "end_date", "status": "status", "identifier": "identifier"}),
        (source, {"publisher": "source_publisher", "title": "source_title", "published": "source_date"}),
    ):
        try:
            obj.full_clean(exclude=["participant", "kind"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                key = names.get(field, "source_url" if field == "url" else field)
                errors.setdefault(key if key in text else "__all__", []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return record, source


def _records(data):
    """``data["records"]`` as validated ``(Record, Source)`` pairs."""
    items = data.get("records") or []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValidationError(_("records must be a list."))
    kinds = {k.slug: k for k in RecordKind.objects.filter(slug__in={str(i.get("kind")) for i in items})}
    pairs = []
    for item in items:
        try:
            pairs.append(build_record(item, kinds))
        except ValidationError as exc:
            said = [f"{k}: {m}" if k != "__all__" else m for k, ms in exc.message_dict.items() for m in ms]
            message = _("A proposed record is not valid: %(errors)s") % {"errors": " ".join(said)}
            raise ValidationError(message) from None
    return pairs


def _add_records(participant, data, by, reason):
    """Create the records a correction proposes, each with its source (an existing source
    with the same publisher, title, date and URL is reused); a record the participant
    already has (same kind, identifier and date) is skipped. Returns whether any was added."""
    added = False
    for record, source in _records(data):
        same = {"kind": record.kind, "identifier": record.identifier, "date": record.date}
        if participant.records.filter(**same).exists():
            continue
        source, _created = Source.objects.get_or_create(
            publisher=source.publisher, title=source.title, published=source.published, url=source.url
        )
        record.participant = participant
        _save_with_history(record, by, reason)
        record.sources.add(source)
        added = True
    return added


def _save_with_history(obj, by, reason):
    obj._history_user = by
    obj._change_reason = reason
    obj.save()


def _create_participant(data, by, reason):
    _check_keys(data, PROPOSAL_FIELDS + sorted(NEW_LISTING_EXTRA_KEYS))
    values = _scalar_values(data, PROPOSAL_FIELDS)
    values["kind"] = values["kind"] or Participant._meta.get_field("kind").default
    values["open_source"] = values["open_source"] or Participant._meta.get_field("open_source").default
    now = timezone.now()
    participant = Participant(
        status=Status.PUBLISHED, created_at=now, updated_at=now, published_at=now, **values
    )
    _check_participant(participant)
    offerings = _offerings(data)
    suppliers, customers = _links(data, "suppliers"), _links(data, "customers")
    participant.slug = matching.new_slug(values["name_en"] or values["name_zh"])
    _save_with_history(participant, by, reason)
    for offering in offerings:
        offering.participant = participant
        _save_with_history(offering, by, reason)
    links = [Relationship(supplier=s, customer=participant, kind=k) for s, k in suppliers]
    links += [Relationship(supplier=participant, customer=c, kind=k) for c, k in customers]
    for link in links:
        _save_with_history(link, by, reason)
    return participant


def _add_offerings_and_links(participant, data, by, reason):
    """Create the offerings and supply links a correction adds; those the participant
    already has (or a link to itself) are skipped. Returns whether anything was added."""
    have = {(o.segment_id, o.name) for o in participant.offerings.all()}
    offerings = [o for o in _offerings(data, required=False) if (o.segment_id, o.name) not in have]
    links = [Relationship(supplier=s, customer=participant, kind=k) for s, k in _links(data, "suppliers")]
    links += [Relationship(supplier=participant, customer=c, kind=k) for c, k in _links(data, "customers")]
    existing = set(
        Relationship.objects.filter(Q(supplier=participant) | Q(customer=participant)).values_list(
            "supplier_id", "customer_id", "kind"
        )
    )
    links = [
        link
        for link in links
        if link.supplier_id != link.customer_id
        and (link.supplier_id, link.customer_id, link.kind) not in existing
    ]
    for offering in offerings:
        offering.participant = participant
        _save_with_history(offering, by, reason)
    for link in links:
        _save_with_history(link, by, reason)
    return bool(offerings or links)


def _apply_correction(participant, data, by, reason):
    if participant is None:
        raise ValidationError(_("The participant this correction is about no longer exists."))
    _check_keys(data, PROPOSAL_FIELDS + CORRECTION_KEYS)
    values = _scalar_values(data, [name for name in PROPOSAL_FIELDS if name in data])
    changed = [name for name, value in values.items() if not same_value(getattr(participant, name), value)]
    for name in changed:
        setattr(participant, name, values[name])
    _check_participant(participant)
    added = _add_offerings_and_links(participant, data, by, reason)
    added = _add_records(participant, data, by, reason) or added
    if changed or added:
        participant.updated_at = timezone.now()
        participant._history_user = by
        participant._change_reason = reason
        extra = ["website_domain"] if "website" in changed else []
        participant.save(update_fields=[*changed, *extra, "updated_at"])
    return participant


def _mail_decision(submission, site):
    """Mail the submitter once the decision is committed (never if it is rolled back)."""
    transaction.on_commit(partial(notify_decision, submission, site), robust=True)


def approve_submission(submission, by, data=None, site=""):
    """Apply ``submission`` to the directory and mark it approved by ``by``; return the
    participant created or corrected.

    ``data`` is applied instead of the submitted values when the curator edited them;
    the submission keeps what the submitter sent, and the participant's history records
    what was applied. A new listing becomes a published
    participant with a unique slug, its offerings, and its supply links to participants
    that still exist; a correction updates exactly the fields whose proposed value
    differs from the current one and adds the offerings, supply links and records (each
    with its source) it proposes, skipping those the participant has by then. Raises
    ``ValidationError`` for values the directory cannot take (nothing is written) and
    ``SubmissionAlreadyReviewed`` when the submission is no longer pending. After the
    commit the submitter is mailed the decision with a link to the participant's public
    page (``site``: scheme and host of the links, see ``notifications.site_url``).
    """
    with transaction.atomic():
        locked = _lock_pending(submission)
        edited = data is not None and data != locked.data
        if edited:
            reason = _("Approved submission #%(pk)s, edited by the curator") % {"pk": locked.pk}
        else:
            reason = _("Approved submission #%(pk)s") % {"pk": locked.pk}
        data = data if data is not None else locked.data
        if locked.kind == SubmissionKind.NEW:
            participant = _create_participant(data, by, reason)
        else:
            participant = _apply_correction(locked.participant, data, by, reason)
        locked.participant = participant
        _finish(submission, locked, by, SubmissionStatus.APPROVED)
        refresh_search_index([participant.pk])
        _mail_decision(submission, site)
    return participant


def reject_submission(submission, by, reason, site=""):
    """Mark ``submission`` rejected by ``by``, keeping it; ``reason`` is required, shown to
    the submitter on their status page and mailed to them after the commit."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("A reason is required to reject a submission."))
    with transaction.atomic():
        locked = _lock_pending(submission)
        _finish(submission, locked, by, SubmissionStatus.REJECTED, reason)
        _mail_decision(submission, site)


def mark_spam(submission, by, reason=""):
    """Mark ``submission`` as spam (kept, never applied; nobody is mailed)."""
    with transaction.atomic():
        locked = _lock_pending(submission)
        _finish(submission, locked, by, SubmissionStatus.SPAM, (reason or "").strip())
