"""The CSV import/export format of DESIGN.md, shared by the management commands, the
admin's CSV upload and the export view.

Import is two-phase: every row is parsed and validated and its action decided
(create / update / unchanged) without writing; only when no row has an error and this
is not a dry run are the rows written, all in one transaction.
"""

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import islice

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_slug
from django.db import connections, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.text import slugify

from .countries import COUNTRIES
from .models import (
    FOUNDED_MIN,
    Kind,
    Offering,
    OpenSource,
    Participant,
    Relationship,
    RelationshipKind,
    Segment,
    Tag,
)
from .search import refresh_search_index
from .urls_util import domain_of

REQUIRED_COLUMNS = [
    "name_en",
    "name_zh",
    "segment",
    "website",
    "country",
    "founded",
    "open_source",
    "description_en",
]
OPTIONAL_COLUMNS = ["slug", "description_zh", "kind", "tags", "parent", "offerings"]
EXPORT_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
RELATIONSHIP_COLUMNS = ["supplier", "customer", "kind", "evidence", "evidence_url"]
LIST_SEPARATOR = "|"
MAX_FILE_BYTES = 20 * 1024 * 1024
LIMITS = {
    "name_en": 200,
    "name_zh": 200,
    "description_en": 4000,
    "description_zh": 4000,
    "website": 300,
    "slug": 120,
    "tags": 1000,
    "offerings": 4000,
    "evidence": 1000,
    "evidence_url": 500,
}
# Spreadsheet programs run cells starting with these as formulas; export prefixes them
# with an apostrophe and import removes it again, so the round trip stays lossless.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED_PREFIXES = FORMULA_PREFIXES + ("'",)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_validate_url = URLValidator(schemes=["http", "https"])


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, missing columns, too large)."""


@dataclass
class RowResult:
    line: int
    action: str = ""  # "create", "update", "unchanged" or "error"
    key: str = ""
    errors: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    values: dict = field(default_factory=dict)


@dataclass
class ImportReport:
    rows: list = field(default_factory=list)
    written: bool = False

    @property
    def errors(self):
        return [r for r in self.rows if r.errors]

    def count(self, action):
        return sum(1 for r in self.rows if r.action == action)

    @property
    def summary(self):
        return (
            f"{self.count('create')} created, {self.count('update')} updated, "
            f"{self.count('unchanged')} unchanged, {len(self.errors)} with errors"
        )


def neutralise_formula(value):
    """Make a cell safe to open in a spreadsheet (see FORMULA_PREFIXES)."""
    if value and value.startswith(_ESCAPED_PREFIXES):
        return "'" + value
    return value


def _unneutralise(value):
    if value.startswith("'") and value[1:].startswith(_ESCAPED_PREFIXES):
        return value[1:]
    return value


def _split(value):
    return [item.strip() for item in value.split(LIST_SEPARATOR) if item.strip()]


def read_csv(data, required):
    """Decode ``data`` (bytes or text) and yield ``(line_number, row_dict)``; raise
    ImportFileError for problems with the file as a whole."""
    if isinstance(data, bytes):
        if len(data) > MAX_FILE_BYTES:
            raise ImportFileError(f"the file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ImportFileError(f"line {line}: the file is not valid UTF-8") from exc
    if "\x00" in data:
        line = data[: data.index("\x00")].count("\n") + 1
        raise ImportFileError(f"line {line}: the file contains a NUL character")
    reader = csv.reader(io.StringIO(data, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    except csv.Error as exc:
        raise ImportFileError(f"line 1: {exc}") from exc
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportFileError(f"line 1: missing required column(s): {', '.join(missing)}")
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise ImportFileError(f"line 1: repeated column(s): {', '.join(duplicated)}")
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"line {start}: {exc}") from exc
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            yield line, None
            continue
        cells += [""] * (len(header) - len(cells))
        yield line, {h: _unneutralise(c.strip()) for h, c in zip(header, cells, strict=True)}


def _check_text(row, errors):
    for column, value in row.items():
        if _CONTROL.search(value):
            errors.append(f"{column}: contains control characters")
        limit = LIMITS.get(column)
        if limit and len(value) > limit:
            errors.append(f"{column}: longer than {limit} characters")


class _ParticipantImport:
    """Validates participant rows against the database and the rest of the file, and
    writes them."""

    def __init__(self, columns):
        self.columns = set(columns)
        self.segments = {s.slug: s for s in Segment.objects.all()}
        self.seen = {}  # participant key -> first line
        self.slugs_in_file = set()
        self.planned = []  # (RowResult, parsed values, existing participant or None)

    def validate(self, line, row):
        result = RowResult(line=line)
        if row is None:
            result.errors.append("more cells than header columns")
            return result
        errors = result.errors
        _check_text(row, errors)
        values = {k: row.get(k, "") for k in EXPORT_COLUMNS}
        if not values["name_en"] and not values["name_zh"]:
            errors.append("name_en or name_zh is required")
        segments = _split(values["segment"])
        if not segments:
            errors.append("segment: at least one segment slug is required")
        unknown = [s for s in segments if s not in self.segments]
        if unknown:
            errors.append(f"segment: unknown segment {', '.join(unknown)}")
        if values["website"]:
            try:
                _validate_url(values["website"])
            except ValidationError:
                errors.append(f"website: not a valid http(s) URL: {values['website'][:80]}")
        values["country"] = values["country"].upper()
        if values["country"] and values["country"] not in COUNTRIES:
            errors.append(f"country: {values['country'][:10]} is not an ISO 3166-1 alpha-2 code")
        founded = None
        if values["founded"]:
            max_year = timezone.now().year + 1
            if not values["founded"].isdigit() or not FOUNDED_MIN <= int(values["founded"]) <= max_year:
                errors.append(f"founded: must be a year between {FOUNDED_MIN} and {max_year}")
            else:
                founded = int(values["founded"])
        values["founded"] = founded
        values["open_source"] = values["open_source"].lower()
        if values["open_source"] not in OpenSource.values:
            errors.append("open_source: must be yes, no or partly")
        values["kind"] = values["kind"].lower()
        if values["kind"] and values["kind"] not in Kind.values:
            errors.append(f"kind: must be one of {', '.join(Kind.values)}")
        if values["slug"]:
            try:
                validate_slug(values["slug"])
            except ValidationError:
                errors.append("slug: only lowercase letters, digits and hyphens")
            values["slug"] = values["slug"].lower()
        offerings = []
        for item in _split(values["offerings"]):
            segment, sep, name = item.partition(":")
            segment, name = segment.strip(), name.strip()
            if not sep or not name:
                errors.append(f"offerings: '{item[:60]}' is not segment:name")
            elif segment not in segments:
                errors.append(
                    f"offerings: segment {segment[:40]} of '{name[:60]}' is not in the segment column"
                )
            elif len(name) > 200:
                errors.append("offerings: an offering name is longer than 200 characters")
            else:
                offerings.append((segment, name))
        values["offerings"] = offerings
        values["segments"] = segments
        values["tags"] = [t[:60] for t in _split(values["tags"])]
        if errors:
            return result
        existing = self._match(values)
        key = (
            existing.slug
            if existing
            else (values["slug"] or values["name_en"].casefold() or values["name_zh"])
        )
        if key in self.seen:
            errors.append(f"describes the same participant as line {self.seen[key]}")
            return result
        self.seen[key] = line
        result.key = existing.slug if existing else values["slug"]
        if values["slug"]:
            self.slugs_in_file.add(values["slug"])
        self.planned.append((result, values, existing))
        return result

    def _match(self, values):
        if values["slug"]:
            return Participant.objects.filter(slug=values["slug"]).first()
        domain = domain_of(values["website"])
        if domain:
            found = Participant.objects.filter(website_domain=domain).order_by("pk").first()
            if found:
                return found
        if values["name_en"]:
            return Participant.objects.filter(name_en__iexact=values["name_en"]).order_by("pk").first()
        return None

    def decide(self):
        """Check cross-row references and set each planned row's action."""
        for result, values, existing in self.planned:
            parent = values["parent"]
            if (
                parent
                and parent not in self.slugs_in_file
                and not Participant.objects.filter(slug=parent).exists()
            ):
                result.errors.append(f"parent: no participant with slug {parent[:60]}")
                continue
            if parent and parent == (result.key or values["slug"]):
                result.errors.append("parent: a participant cannot be its own parent")
                continue
            if existing is None:
                result.action = "create"
                result.changes = ["new"]
            else:
                result.changes = self._changes(existing, values)
                result.action = "update" if result.changes else "unchanged"
            result.values = values

    def _scalar_values(self, values, existing):
        fields = {
            "name_en": values["name_en"],
            "name_zh": values["name_zh"],
            "description_en": values["description_en"],
            "website": values["website"],
            "country": values["country"],
            "founded": values["founded"],
            "open_source": values["open_source"],
        }
        if "description_zh" in self.columns:
            fields["description_zh"] = values["description_zh"]
        if values["kind"]:
            fields["kind"] = values["kind"]
        elif existing is None:
            fields["kind"] = Kind.VENDOR
        return fields

    def _wanted_offerings(self, values, existing):
        """The (segment, name) pairs this row asks for; segments without a named
        offering get one named after the participant unless one already exists."""
        wanted = set(values["offerings"])
        have = set()
        if existing is not None:
            have = {(o.segment.slug, o.name) for o in existing.offerings.select_related("segment")}
        named = {s for s, _ in wanted}
        for segment in values["segments"]:
            if segment not in named:
                current = [pair for pair in have if pair[0] == segment]
                # A name can hold "|", an offering's cannot (it separates offerings here).
                named_after = (values["name_en"] or values["name_zh"]).replace(LIST_SEPARATOR, "/")
                wanted.update(current or [(segment, named_after)])
        if "offerings" not in self.columns or not values["offerings"]:
            wanted |= have  # without an offerings list, import only adds
        return wanted, have

    def _changes(self, existing, values):
        changes = [
            name
            for name, value in self._scalar_values(values, existing).items()
            if getattr(existing, name) != value
        ]
        wanted, have = self._wanted_offerings(values, existing)
        if wanted != have:
            changes.append("offerings")
        if "tags" in self.columns and {t.casefold() for t in values["tags"]} != {
            t.name.casefold() for t in existing.tags.all()
        }:
            changes.append("tags")
        if "parent" in self.columns and (values["parent"] or None) != (
            existing.parent.slug if existing.parent_id else None
        ):
            changes.append("parent")
        return changes

    def write(self, progress=None):
        touched = []
        parents = []
        total = len(self.planned)
        for done, (result, values, existing) in enumerate(self.planned, 1):
            if result.action == "unchanged":
                continue
            participant = existing or Participant(slug=values["slug"] or _free_slug(values))
            wanted, have = self._wanted_offerings(values, existing)
            for name, value in self._scalar_values(values, existing).items():
                setattr(participant, name, value)
            participant.updated_at = timezone.now()
            if existing is None:
                participant.published_at = participant.updated_at
            participant._change_reason = "CSV import"
            participant.save()
            result.key = participant.slug
            for segment, name in have - wanted:
                participant.offerings.filter(segment__slug=segment, name=name).delete()
            for segment, name in sorted(wanted - have):
                Offering.objects.create(participant=participant, segment=self.segments[segment], name=name)
            if "tags" in self.columns:
                participant.tags.set([_tag(t) for t in values["tags"]])
            if "parent" in self.columns:
                parents.append((participant, values["parent"]))
            touched.append(participant.pk)
            if progress and (done % 100 == 0 or done == total):
                progress(done, total)
        for participant, parent_slug in parents:
            parent = Participant.objects.filter(slug=parent_slug).first() if parent_slug else None
            if participant.parent_id != (parent.pk if parent else None):
                participant.parent = parent
                participant.save(update_fields=["parent"])
        refresh_search_index(touched)


def _tag(name):
    slug = slugify(name)[:60] or f"tag-{abs(hash(name)) % 10**8}"
    tag, _ = Tag.objects.get_or_create(slug=slug, defaults={"name": name})
    return tag


def _free_slug(values):
    base = slugify(values["name_en"])[:100] or "participant"
    slug, n = base, 2
    while Participant.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def import_participants(data, dry_run=False, progress=None):
    """Validate and (unless ``dry_run`` or any row is bad) apply a participants CSV.

    ``data`` is the file's bytes or text. Returns an ImportReport; raises
    ImportFileError when the file as a whole is unreadable. Writes all rows or none.
    """
    rows = list(read_csv(data, REQUIRED_COLUMNS))
    columns = set(rows[0][1]) if rows and rows[0][1] else set(EXPORT_COLUMNS)
    plan = _ParticipantImport(columns)
    report = ImportReport()
    for line, row in rows:
        report.rows.append(plan.validate(line, row))
    plan.decide()
    for result in report.rows:
        if result.errors:
            result.action = "error"
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        plan.write(progress)
    report.written = True
    return report


def import_relationships(data, dry_run=False):
    """Validate and (unless ``dry_run`` or any row is bad) apply a relationships CSV
    (columns ``supplier,customer,kind,evidence,evidence_url``; participants by slug)."""
    rows = list(read_csv(data, RELATIONSHIP_COLUMNS[:3]))
    slugs = {r.get("supplier", "") for _, r in rows if r} | {r.get("customer", "") for _, r in rows if r}
    participants = {p.slug: p for p in Participant.objects.filter(slug__in=slugs)}
    report, plan, seen = ImportReport(), [], {}
    for line, row in rows:
        result = RowResult(line=line)
        report.rows.append(result)
        if row is None:
            result.errors.append("more cells than header columns")
            continue
        _check_text(row, result.errors)
        supplier, customer = participants.get(row["supplier"]), participants.get(row["customer"])
        for column, found in (("supplier", supplier), ("customer", customer)):
            if found is None:
                result.errors.append(f"{column}: no participant with slug {row[column][:60]}")
        if supplier is not None and supplier == customer:
            result.errors.append("supplier and customer are the same participant")
        if row["kind"] not in RelationshipKind.values:
            result.errors.append(f"kind: must be one of {', '.join(RelationshipKind.values)}")
        evidence_url = row.get("evidence_url", "")
        if evidence_url:
            try:
                _validate_url(evidence_url)
            except ValidationError:
                result.errors.append("evidence_url: not a valid http(s) URL")
        key = (row["supplier"], row["customer"], row["kind"])
        result.key = " -> ".join(key)
        if key in seen and not result.errors:
            result.errors.append(f"same supplier, customer and kind as line {seen[key]}")
        if result.errors:
            result.action = "error"
            continue
        seen[key] = line
        existing = Relationship.objects.filter(supplier=supplier, customer=customer, kind=row["kind"]).first()
        wanted = {"evidence": row.get("evidence", ""), "evidence_url": evidence_url}
        if existing is None:
            result.action = "create"
        else:
            result.changes = [k for k, v in wanted.items() if getattr(existing, k) != v]
            result.action = "update" if result.changes else "unchanged"
        plan.append((result, supplier, customer, row["kind"], wanted, existing))
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        for result, supplier, customer, kind, wanted, existing in plan:
            if result.action == "unchanged":
                continue
            rel = existing or Relationship(supplier=supplier, customer=customer, kind=kind)
            for name, value in wanted.items():
                setattr(rel, name, value)
            rel._change_reason = "CSV import"
            rel.save()
    report.written = True
    return report


# What the export reads of each participant: the plain columns of EXPORT_COLUMNS, the
# parent's slug, and ``pk`` to match the chunk's offerings and tags.
_EXPORT_FIELDS = [
    "pk",
    "name_en",
    "name_zh",
    "website",
    "country",
    "founded",
    "open_source",
    "description_en",
    "slug",
    "description_zh",
    "kind",
    "parent__slug",
]
EXPORT_CHUNK_SIZE = 1000


def participant_row(participant, offerings, tags):
    """One participant as a CSV row (a list in EXPORT_COLUMNS order).

    ``participant``: its ``_EXPORT_FIELDS`` as a dict (a ``values()`` row); ``offerings``:
    its ``(segment order, segment slug, offering name)`` triples; ``tags``: its tag names.
    """
    offerings = sorted(offerings)  # chain order: by segment, then name
    values = {
        **participant,
        "segment": LIST_SEPARATOR.join(dict.fromkeys(segment for _, segment, _ in offerings)),
        "founded": "" if participant["founded"] is None else str(participant["founded"]),
        "tags": LIST_SEPARATOR.join(sorted(tags)),
        "parent": participant["parent__slug"] or "",
        "offerings": LIST_SEPARATOR.join(f"{segment}:{name}" for _, segment, name in offerings),
    }
    return [neutralise_formula(values[c]) for c in EXPORT_COLUMNS]


def export_rows(queryset, chunk_size=None):
    """Yield the CSV rows of ``queryset`` (in its order) as lists of at most ``chunk_size``
    rows, reading plain values, never model instances: one query for the participants,
    then two per chunk.

    The participants come from one query read chunk by chunk (a server-side cursor on
    PostgreSQL, SQLite's own cursor otherwise), which keeps any filter, search rank and
    ordering of ``queryset`` as they are; each chunk then fetches its offerings and its
    tags with one query each. Memory holds one chunk at a time, whatever the total.
    """
    chunk_size = chunk_size or EXPORT_CHUNK_SIZE
    using = queryset.db
    # A caller's prefetches (the admin's changelist has some) have nothing to attach to
    # in plain values.
    participants = queryset.prefetch_related(None).values(*_EXPORT_FIELDS).iterator(chunk_size=chunk_size)
    while chunk := list(islice(participants, chunk_size)):
        ids = _id_list([participant["pk"] for participant in chunk], using)
        offerings, tags = defaultdict(list), defaultdict(list)
        for participant_id, order, segment, name in (
            Offering.objects.using(using)
            .filter(participant_id__in=ids)
            .order_by()
            .values_list("participant_id", "segment__order", "segment__slug", "name")
        ):
            offerings[participant_id].append((order, segment, name))
        for participant_id, name in (
            Participant.tags.through.objects.using(using)
            .filter(participant_id__in=ids)
            .order_by()
            .values_list("participant_id", "tag__name")
        ):
            tags[participant_id].append(name)
        yield [participant_row(p, offerings[p["pk"]], tags[p["pk"]]) for p in chunk]


def _id_list(ids, using):
    """``ids`` as the right-hand side of an ``__in`` lookup. On PostgreSQL one array
    parameter: binding a thousand separate placeholders costs Django and psycopg more
    than running the query."""
    if connections[using].vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return ids


class _Echo:
    def write(self, value):
        return value


def iter_csv(queryset, chunk_size=None):
    """Yield the CSV export of ``queryset``: the header line first (before any query), then
    one string per chunk of rows (see ``export_rows``), so memory stays flat at any size."""
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for rows in export_rows(queryset, chunk_size):
        yield "".join(map(writer.writerow, rows))
