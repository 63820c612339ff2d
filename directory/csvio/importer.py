"""The CSV import/export format of docs/design.md, shared by the management commands, the
admin's CSV upload and the export view.

Import is two-phase: every row is parsed and validated and its action decided
(create / update / unchanged) without writing; only when no row has an error and this
is not a dry run are the rows written, all in one transaction.
"""

import csv
import hashlib
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import islice

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_slug
from django.db import connections, transaction
from django.db.models import Prefetch
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from directory.catalog.cache import directory_changed
from directory.catalog.search import refresh_search_index
from directory.countries import COUNTRIES
from directory.curation import matching
from directory.models import (
    FOUNDED_MIN,
    LIST_SEPARATOR,
    Kind,
    Offering,
    OpenSource,
    Participant,
    Relationship,
    RelationshipKind,
    Segment,
    Tag,
    founded_max,
    validate_founded,
)
from directory.urls_util import site_of

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
    name: str = ""  # the row's own name, as the file gives it (rows with errors too)
    errors: list = field(default_factory=list)
    changes: list = field(default_factory=list)  # the names of the fields an update changes
    diff: list = field(default_factory=list)  # (field, old value, new value) for each of changes
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


def _joined(offerings):
    """``(segment, name)`` pairs as the CSV's offerings cell writes them."""
    return LIST_SEPARATOR.join(f"{segment}:{name}" for segment, name in sorted(offerings))


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


BATCH = 500  # rows per lookup or bulk write: within every database's parameter limit


def _batches(items, size=BATCH):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _update_each(objects, fields):
    """Write ``fields`` of the changed ``objects`` (all of one model) and insert their
    history rows in one go. One UPDATE an object: Django's bulk_update builds a CASE per
    field and object, which compiles slower than the statements it saves (an import
    changing 4,000 participants: 17-21 s with it, 13-14 s without)."""
    if not objects:
        return
    model = type(objects[0])
    for obj in objects:
        model.objects.filter(pk=obj.pk).update(**{name: getattr(obj, name) for name in fields})
    model.history.bulk_history_create(objects, update=True, default_change_reason=CHANGE_REASON)


def _lowest_ids(queryset, field, values):
    """``{value: id}``: for each of ``values``, the lowest id among the participants of
    ``queryset`` whose ``field`` has that value; a query per batch of values."""
    ids = {}
    for batch in _batches(values):
        rows = queryset.filter(**{f"{field}__in": batch}).order_by("-pk").values_list(field, "pk")
        ids.update(rows)  # the lowest id last
    return ids


def _ids_by_slug(slugs):
    """``{slug: id}`` of the participants among ``slugs`` (any status), a query per batch."""
    return _lowest_ids(Participant.objects.all(), "slug", slugs)


class _ParticipantImport:
    """Validates participant rows against the database and the rest of the file, and
    writes them. The database is read and written a batch of rows at a time (a few
    queries per ``BATCH`` rows), not row by row: ``validate`` checks each row alone,
    ``match`` finds the participants the rows describe, ``decide`` what each row does."""

    def __init__(self, columns):
        self.columns = set(columns)
        self.segments = {s.slug: s for s in Segment.objects.all()}
        self.valid = []  # (RowResult, parsed values) of rows that passed ``validate``
        self.seen = {}  # participant key -> first line
        self.slugs_in_file = set()
        self.planned = []  # (RowResult, parsed values, existing participant or None)
        self.tags = {}  # tag slug -> Tag, filled by ``_load_tags``

    def validate(self, line, row):
        """Check one row on its own (no query)."""
        result = RowResult(line=line)
        if row is None:
            result.errors.append("more cells than header columns")
            return result
        errors = result.errors
        result.name = (row.get("name_en") or row.get("name_zh") or "")[:200]
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
            founded = int(values["founded"]) if values["founded"].isdigit() else -1
            try:
                validate_founded(founded)  # the public form's rule
            except ValidationError:
                errors.append(f"founded: must be a year between {FOUNDED_MIN} and {founded_max()}")
                founded = None
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
        if not errors:
            self.valid.append((result, values))
        return result

    def match(self):
        """Find the existing participant each valid row describes (``_existing``), and
        refuse a row describing the same participant as an earlier one."""
        rows = self.valid
        for (result, values), existing in zip(rows, self._existing([v for _, v in rows]), strict=True):
            key = (
                existing.slug
                if existing
                else (values["slug"] or values["name_en"].casefold() or values["name_zh"])
            )
            if key in self.seen:
                result.errors.append(f"describes the same participant as line {self.seen[key]}")
                continue
            self.seen[key] = result.line
            result.key = existing.slug if existing else values["slug"]
            if values["slug"]:
                self.slugs_in_file.add(values["slug"])
            self.planned.append((result, values, existing))

    def _existing(self, rows):
        """For each row in ``rows``, the participant it describes or None: the one with
        its slug when it gives one; else the same organisation by the directory's one rule
        (``curation.matching``: the same site, else a name in common), the lowest id first."""
        by_slug = _ids_by_slug({v["slug"] for v in rows if v["slug"]})
        directory = None
        found = []
        for values in rows:
            if values["slug"]:
                found.append(by_slug.get(values["slug"]))
                continue
            directory = directory or matching.Directory()
            found.append(directory.match((values["name_en"], values["name_zh"]), values["website"]))
        participants = {}
        for batch in _batches({pk for pk in found if pk is not None}):
            participants.update(
                (p.pk, p)
                for p in Participant.objects.filter(pk__in=batch)
                .select_related("parent")
                .prefetch_related(Prefetch("offerings", Offering.objects.select_related("segment")), "tags")
            )
        return [participants.get(pk) for pk in found]

    def decide(self):
        """Check cross-row references and set each planned row's action."""
        wanted_parents = {values["parent"] for _, values, _ in self.planned if values["parent"]}
        known_parents = self.slugs_in_file | _ids_by_slug(wanted_parents - self.slugs_in_file).keys()
        for result, values, existing in self.planned:
            parent = values["parent"]
            if parent and parent not in known_parents:
                result.errors.append(f"parent: no participant with slug {parent[:60]}")
                continue
            if parent and parent == (result.key or values["slug"]):
                result.errors.append("parent: a participant cannot be its own parent")
                continue
            if existing is None:
                result.action = "create"
                result.changes = ["new"]
            else:
                result.diff = self._diff(existing, values)
                result.changes = [name for name, _old, _new in result.diff]
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
            have = {(o.segment.slug, o.name) for o in existing.offerings.all()}  # prefetched
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

    def _diff(self, existing, values):
        """``(field, old, new)`` for each field the row changes on ``existing``; lists
        (offerings, tags) as they are written in the CSV."""
        diff = [
            (name, getattr(existing, name), value)
            for name, value in self._scalar_values(values, existing).items()
            if getattr(existing, name) != value
        ]
        wanted, have = self._wanted_offerings(values, existing)
        if wanted != have:
            diff.append(("offerings", _joined(have), _joined(wanted)))
        if "tags" in self.columns:
            old_tags = sorted(t.name for t in existing.tags.all())
            if {t.casefold() for t in values["tags"]} != {t.casefold() for t in old_tags}:
                diff.append(("tags", LIST_SEPARATOR.join(old_tags), LIST_SEPARATOR.join(values["tags"])))
        if "parent" in self.columns:
            old_parent = existing.parent.slug if existing.parent_id else None
            if (values["parent"] or None) != old_parent:
                diff.append(("parent", old_parent or "", values["parent"]))
        return diff

    def write(self, progress=None):
        """Apply the planned rows, a batch at a time: new and changed participants, their
        offerings and tags in bulk (history rows included), then parents, the search
        index, and one new cache generation on commit."""
        to_write = [(r, v, e) for r, v, e in self.planned if r.action in ("create", "update")]
        total, done = len(to_write), 0
        self._load_tags(dict.fromkeys(t for _, values, _ in to_write for t in values["tags"]))
        taken = set(self.slugs_in_file)
        touched, parents = [], []
        for batch in _batches(to_write):
            created = self._create([(r, v) for r, v, e in batch if e is None], taken)
            updated = self._update([(r, v, e) for r, v, e in batch if e is not None])
            for participant, values in created + updated:
                touched.append(participant.pk)
                if "parent" in self.columns:
                    parents.append((participant, values["parent"]))
            done += len(batch)
            if progress:
                progress(done, total)
        self._set_parents(parents)
        refresh_search_index(touched)
        if touched:
            # Bulk writes send no save signals, so the page caches learn of them here.
            directory_changed()

    def _create(self, rows, taken):
        """Create the participants of ``rows`` ((RowResult, values)) with their offerings
        and tags: a few bulk queries for the lot. ``taken``: slugs in use by the file."""
        if not rows:
            return []
        now = timezone.now()
        for _, values in rows:
            if not values["slug"]:
                values["slug"] = matching.new_slug(values["name_en"] or values["name_zh"], taken)
            taken.add(values["slug"])
        participants = [
            Participant(
                slug=values["slug"],
                **self._scalar_values(values, None),
                website_domain=site_of(values["website"]),  # what save() would set
                updated_at=now,
                published_at=now,
            )
            for _, values in rows
        ]
        bulk_create_with_history(participants, Participant, default_change_reason=CHANGE_REASON)
        offerings, taggings = [], []
        for participant, (result, values) in zip(participants, rows, strict=True):
            result.key = participant.slug
            offerings += self._offerings(participant, self._wanted_offerings(values, None)[0])
            if "tags" in self.columns:
                taggings += self._taggings(participant, values)
        bulk_create_with_history(offerings, Offering, default_change_reason=CHANGE_REASON)
        Participant.tags.through.objects.bulk_create(taggings)
        return [(participant, values) for participant, (_, values) in zip(participants, rows, strict=True)]

    def _update(self, rows):
        """Apply ``rows`` ((RowResult, values, existing participant with its offerings and
        tags prefetched)): one UPDATE a participant, a few bulk queries for the rest, and a
        history row for each participant, offering added and offering removed."""
        if not rows:
            return []
        now = timezone.now()
        fields, removed, added, retagged, taggings = {"website_domain", "updated_at"}, [], [], [], []
        for result, values, participant in rows:
            wanted, have = self._wanted_offerings(values, participant)
            scalars = self._scalar_values(values, participant)
            for name, value in scalars.items():
                setattr(participant, name, value)
            fields.update(scalars)
            participant.website_domain = site_of(participant.website)  # what save() would set
            participant.updated_at = now
            result.key = participant.slug
            removed += [o.pk for o in participant.offerings.all() if (o.segment.slug, o.name) not in wanted]
            added += self._offerings(participant, wanted - have)
            if "tags" in self.columns:
                tagging = self._taggings(participant, values)
                if {t.tag_id for t in tagging} != {t.pk for t in participant.tags.all()}:
                    retagged.append(participant.pk)
                    taggings += tagging
        participants = [participant for _, _, participant in rows]
        _update_each(participants, fields)
        if removed:
            Offering.objects.filter(pk__in=removed).delete()  # one history row each
        bulk_create_with_history(added, Offering, default_change_reason=CHANGE_REASON)
        if retagged:
            Participant.tags.through.objects.filter(participant_id__in=retagged).delete()
            Participant.tags.through.objects.bulk_create(taggings)
        return [(participant, values) for _, values, participant in rows]

    def _offerings(self, participant, pairs):
        """New ``Offering`` s of ``participant`` for the ``(segment slug, name)`` ``pairs``."""
        return [
            Offering(participant=participant, segment=self.segments[segment], name=name)
            for segment, name in sorted(pairs)
        ]

    def _taggings(self, participant, values):
        """New rows tying ``participant`` to the tags of its row's ``values`` (one a tag)."""
        tag_ids = {self.tags[_tag_slug(name)].pk for name in values["tags"]}
        return [Participant.tags.through(participant=participant, tag_id=pk) for pk in sorted(tag_ids)]

    def _load_tags(self, names):
        """Fill ``self.tags`` for ``names`` (in file order): existing tags by slug, or else
        by name (a tag whose slug was made otherwise), and new ones created, each under
        the first of the file's names that give its slug ("GPU" before "gpu")."""
        slugs = {}
        for name in names:
            slugs.setdefault(_tag_slug(name), name)
        for batch in _batches(slugs):
            self.tags.update((t.slug, t) for t in Tag.objects.filter(slug__in=batch))
        missing = {slug: name for slug, name in slugs.items() if slug not in self.tags}
        for batch in _batches(set(missing.values())):
            by_name = {t.name: t for t in Tag.objects.filter(name__in=batch).order_by("-pk")}
            for slug, name in missing.items():
                if name in by_name:
                    self.tags[slug] = by_name[name]
        new = [Tag(slug=slug, name=name) for slug, name in missing.items() if slug not in self.tags]
        for tag in Tag.objects.bulk_create(new):
            self.tags[tag.slug] = tag

    def _set_parents(self, parents):
        slugs = {slug for _, slug in parents if slug}
        ids = _ids_by_slug(slugs)
        for participant, slug in parents:
            parent_id = ids.get(slug) if slug else None
            if participant.parent_id != parent_id:
                participant.parent_id = parent_id
                participant._change_reason = CHANGE_REASON
                participant.save(update_fields=["parent"])


CHANGE_REASON = "CSV import"


def _tag_slug(name):
    """A tag's slug from its name; names with no letter a slug keeps (such as Chinese
    ones) get one from a digest of the name, the same in every process."""
    return slugify(name)[:60] or f"tag-{hashlib.sha256(name.encode()).hexdigest()[:10]}"


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
    plan.match()
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
    (columns ``supplier,customer,kind,evidence,evidence_url``; participants by slug).
    Participants and existing links are looked up a few queries per ``BATCH`` rows; new
    links are bulk inserts with their history rows, changed ones one UPDATE each."""
    rows = list(read_csv(data, RELATIONSHIP_COLUMNS[:3]))
    slugs = {r.get("supplier", "") for _, r in rows if r} | {r.get("customer", "") for _, r in rows if r}
    ids = _ids_by_slug(slugs)
    report, plan, seen = ImportReport(), [], {}
    for line, row in rows:
        result = RowResult(line=line)
        report.rows.append(result)
        if row is None:
            result.errors.append("more cells than header columns")
            continue
        _check_text(row, result.errors)
        supplier, customer = ids.get(row["supplier"]), ids.get(row["customer"])
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
        wanted = {"evidence": row.get("evidence", ""), "evidence_url": evidence_url}
        plan.append((result, (supplier, customer, row["kind"]), wanted))
    existing = _existing_links([link for _, link, _ in plan])
    for result, link, wanted in plan:
        if link not in existing:
            result.action = "create"
        else:
            result.changes = [k for k, v in wanted.items() if getattr(existing[link], k) != v]
            result.action = "update" if result.changes else "unchanged"
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        new, changed = [], []
        for result, (supplier, customer, kind), wanted in plan:
            if result.action == "create":
                new.append(Relationship(supplier_id=supplier, customer_id=customer, kind=kind, **wanted))
            elif result.action == "update":
                changed.append(existing[supplier, customer, kind])
                for name, value in wanted.items():
                    setattr(changed[-1], name, value)
        for batch in _batches(new):
            bulk_create_with_history(batch, Relationship, default_change_reason=CHANGE_REASON)
        for batch in _batches(changed):
            _update_each(batch, ["evidence", "evidence_url"])
        if new or changed:
            directory_changed()  # bulk writes send no signals
    report.written = True
    return report


def _existing_links(links):
    """``{(supplier id, customer id, kind): Relationship}`` of those of ``links`` that exist."""
    found = {}
    for batch in _batches(links):
        suppliers = {supplier for supplier, _, _ in batch}
        customers = {customer for _, customer, _ in batch}
        for link in Relationship.objects.filter(supplier_id__in=suppliers, customer_id__in=customers):
            found[link.supplier_id, link.customer_id, link.kind] = link
    wanted = set(links)
    return {key: link for key, link in found.items() if key in wanted}


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


def _values_in_order(ids, chunk_size):
    """The export fields of the participants ``ids``, in that order, a chunk at a time."""
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        rows = {row["pk"]: row for row in Participant.objects.filter(pk__in=chunk).values(*_EXPORT_FIELDS)}
        yield from (rows[pk] for pk in chunk if pk in rows)


def export_rows(queryset, chunk_size=None):
    """Yield the CSV rows of ``queryset`` (in its order; or a list of ids, in that
    order, such as a search's matches by relevance) as lists of at most ``chunk_size``
    rows, reading plain values, never model instances: one query for the participants,
    then two per chunk.

    The participants come from one query read chunk by chunk (a server-side cursor on
    PostgreSQL, SQLite's own cursor otherwise), which keeps any filter, search rank and
    ordering of ``queryset`` as they are; each chunk then fetches its offerings and its
    tags with one query each. Memory holds one chunk at a time, whatever the total.
    """
    chunk_size = chunk_size or EXPORT_CHUNK_SIZE
    if isinstance(queryset, list):
        using, participants = Participant.objects.db, _values_in_order(queryset, chunk_size)
    else:
        using = queryset.db
        # A caller's prefetches (the admin's changelist has some) have nothing to attach
        # to in plain values.
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
