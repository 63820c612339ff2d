"""The record CSVs: kinds of record (``record-kinds.csv``, by slug) and the records
themselves (``records.csv``: participant by slug, kind by slug, as published, with sources
in the relationships format's source columns). Each import validates every row and writes
all or none; a second import changes nothing; the export writes the same columns, so
export then import is lossless. A record needs at least one source.

A record is the same record as another when participant, kind, identifier and date agree.
"""

import csv
import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from directory.catalog.cache import directory_changed
from directory.csvio.common import (
    ImportReport,
    RowResult,
    check_text,
    ids_by_slug,
    neutralise_formula,
    read_csv,
)
from directory.csvio.relationships import SOURCE_COLUMNS, _key, _source_items, _sources, source_cells
from directory.models import Participant, Record, RecordKind, RecordStatus

KIND_COLUMNS = [
    "slug",
    "name_en",
    "name_zh",
    "jurisdiction",
    "authority_en",
    "authority_zh",
    "description_en",
    "description_zh",
    "list_changes",
    "badge",
    "short_en",
    "short_zh",
]
_KIND_TEXT = [c for c in KIND_COLUMNS if c not in ("slug", "list_changes", "badge")]
COLUMNS = [
    "participant",
    "kind",
    "authority",
    "identifier",
    "entity_name",
    "role",
    "status",
    "date",
    "end_date",
    "checked",
    "notes_en",
    "notes_zh",
    *SOURCE_COLUMNS,
]
_FIELDS = ["authority", "entity_name", "role", "status", "end_date", "checked", "notes_en", "notes_zh"]


def _yes(value):
    return (value or "").strip().lower() in ("yes", "true", "1")


def import_record_kinds(data, dry_run=False):
    rows = list(read_csv(data, ["slug", "name_en", "jurisdiction", "authority_en", "description_en"]))
    existing = {k.slug: k for k in RecordKind.objects.all()}
    report, plan = ImportReport(), []
    for order, (line, row) in enumerate(rows, 1):
        result = RowResult(line=line, key=(row or {}).get("slug", ""))
        report.rows.append(result)
        if row is None:
            result.errors.append("more cells than header columns")
            continue
        check_text(row, result.errors)
        wanted = {name: row.get(name, "") for name in _KIND_TEXT}
        wanted.update(
            list_changes=_yes(row.get("list_changes", "yes")), badge=_yes(row.get("badge")), order=order
        )
        kind = RecordKind(slug=row["slug"], **wanted)
        try:
            kind.full_clean(exclude=["slug"] if row["slug"] in existing else None)
        except ValidationError as exc:
            result.errors += [
                f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
            ]
        if result.errors:
            result.action = "error"
            continue
        current = existing.get(row["slug"])
        if current is None:
            result.action = "create"
        else:
            result.changes = [k for k, v in wanted.items() if getattr(current, k) != v]
            result.action = "update" if result.changes else "unchanged"
        plan.append((result, row["slug"], wanted))
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        for result, slug, wanted in plan:
            if result.action != "unchanged":
                RecordKind.objects.update_or_create(slug=slug, defaults=wanted)
    report.written = True
    return report


def import_records(data, dry_run=False):
    rows = list(read_csv(data, ["participant", "kind", "status", "date"]))
    ids = ids_by_slug({r.get("participant", "") for _, r in rows if r})
    kinds = {k.slug: k for k in RecordKind.objects.all()}
    report, plan, seen = ImportReport(), [], {}
    for line, row in rows:
        result = RowResult(line=line)
        report.rows.append(result)
        if row is None:
            result.errors.append("more cells than header columns")
            continue
        check_text(row, result.errors)
        participant, kind = ids.get(row["participant"]), kinds.get(row["kind"])
        if participant is None:
            result.errors.append(f"participant: no participant with slug {row['participant'][:60]}")
        if kind is None:
            result.errors.append(f"kind: no kind of record {row['kind'][:60]}")
        sources = _source_items(row, result.errors)
        if not sources and not result.errors:
            result.errors.append("source_publisher: a record needs at least one source")
        record = Record(
            participant_id=participant,
            kind=kind,
            identifier=row.get("identifier", ""),
            date=row["date"],
            **{name: row.get(name, "") for name in _FIELDS if name != "checked"},
        )
        record.status = row["status"] or RecordStatus.IN_FORCE
        try:
            record.checked = _date(row.get("checked", ""))
        except ValueError:
            result.errors.append(f"checked: {row['checked'][:20]} is not YYYY-MM-DD")
        if not result.errors:
            try:
                record.full_clean(exclude=["participant", "kind", "sources"], validate_unique=False)
            except ValidationError as exc:
                result.errors += [f"{field}: {' '.join(m)}" for field, m in exc.message_dict.items()]
        key = (row["participant"], row["kind"], record.identifier, record.date)
        result.key = " ".join(part for part in key if part)
        if key in seen and not result.errors:
            result.errors.append(f"the same record as line {seen[key]}")
        if result.errors:
            result.action = "error"
            continue
        seen[key] = line
        plan.append((result, record, sources))
    existing = {
        (r.participant_id, r.kind_id, r.identifier, r.date): r
        for r in Record.objects.filter(
            participant_id__in={r.participant_id for _, r, _ in plan}
        ).prefetch_related("sources")
    }
    for result, record, sources in plan:
        current = existing.get((record.participant_id, record.kind_id, record.identifier, record.date))
        if current is None:
            result.action = "create"
            continue
        result.changes = [name for name in _FIELDS if getattr(current, name) != getattr(record, name)]
        if {_key(s) for s in current.sources.all()} != set(sources):
            result.changes.append("sources")
        result.action = "update" if result.changes else "unchanged"
        record.pk = current.pk
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        stored = _sources({key for _, _, keys in plan for key in keys})
        for result, record, sources in plan:
            if result.action == "unchanged":
                continue
            record.save()
            record.sources.set([stored[key] for key in dict.fromkeys(sources)])
        directory_changed()
    report.written = True
    return report


def _date(text):
    return datetime.date.fromisoformat(text) if text else None


class _Echo:
    def write(self, value):
        return value


def iter_record_kinds_csv():
    writer = csv.writer(_Echo())
    yield writer.writerow(KIND_COLUMNS)
    for kind in RecordKind.objects.order_by("order", "slug"):
        values = {c: getattr(kind, c) for c in _KIND_TEXT} | {
            "slug": kind.slug,
            "list_changes": "yes" if kind.list_changes else "no",
            "badge": "yes" if kind.badge else "no",
        }
        yield writer.writerow([neutralise_formula(values[c]) for c in KIND_COLUMNS])


def iter_records_csv(queryset=None, kind=""):
    """The records CSV of ``queryset`` (every record of a published participant by
    default; ``kind``: only those of the kind with this slug), in a stable order."""
    if queryset is None:
        queryset = Record.objects.filter(participant__in=Participant.objects.published())
    if kind:
        queryset = queryset.filter(kind__slug=kind)
    queryset = (
        queryset.select_related("participant", "kind")
        .prefetch_related("sources")
        .order_by("participant__slug", "kind__slug", "date", "identifier")
    )
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for record in queryset:
        values = {name: getattr(record, name) or "" for name in _FIELDS}
        values.update(
            participant=record.participant.slug,
            kind=record.kind.slug,
            identifier=record.identifier,
            date=record.date,
            checked=record.checked.isoformat() if record.checked else "",
            **source_cells(record.sources.all()),
        )
        yield writer.writerow([neutralise_formula(values[c]) for c in COLUMNS])
