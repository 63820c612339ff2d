"""The participants CSV (DESIGN.md's import format): validate every row, match each to
the participant it describes by the directory's one rule (``curation.matching``), decide
create / update / unchanged, and write all rows or none in one transaction."""

import datetime
import hashlib

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from directory.catalog.cache import directory_changed
from directory.catalog.search import refresh_search_index
from directory.countries import COUNTRIES
from directory.csvio.common import (
    ANALYZE_AFTER,
    CHANGE_REASON,
    ImportReport,
    RowResult,
    analyze,
    batches,
    check_text,
    ids_by_slug,
    read_csv,
    split_list,
    update_each,
    validate_url,
)
from directory.curation import matching
from directory.models import (
    FOUNDED_MIN,
    LIST_SEPARATOR,
    Kind,
    Offering,
    OpenSource,
    Participant,
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
OPTIONAL_COLUMNS = ["slug", "description_zh", "kind", "tags", "parent", "offerings", "last_verified", "notes"]
EXPORT_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


def _joined(offerings):
    """``(segment, name)`` pairs as the CSV's offerings cell writes them."""
    return LIST_SEPARATOR.join(f"{segment}:{name}" for segment, name in sorted(offerings))


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
        check_text(row, errors)
        values = {k: row.get(k, "") for k in EXPORT_COLUMNS}
        if not values["name_en"] and not values["name_zh"]:
            errors.append("name_en or name_zh is required")
        segments = split_list(values["segment"])
        if not segments:
            errors.append("segment: at least one segment slug is required")
        unknown = [s for s in segments if s not in self.segments]
        if unknown:
            errors.append(f"segment: unknown segment {', '.join(unknown)}")
        if values["website"]:
            try:
                validate_url(values["website"])
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
        for item in split_list(values["offerings"]):
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
        values["tags"] = [t[:60] for t in split_list(values["tags"])]
        verified = values["last_verified"]
        try:
            values["last_verified"] = datetime.date.fromisoformat(verified) if verified else None
        except ValueError:
            errors.append(f"last_verified: {verified[:20]} is not a date (YYYY-MM-DD)")
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
        by_slug = ids_by_slug({v["slug"] for v in rows if v["slug"]})
        directory = None
        found = []
        for values in rows:
            if values["slug"]:
                found.append(by_slug.get(values["slug"]))
                continue
            directory = directory or matching.Directory()
            found.append(directory.match((values["name_en"], values["name_zh"]), values["website"]))
        participants = {}
        for batch in batches({pk for pk in found if pk is not None}):
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
        known_parents = self.slugs_in_file | ids_by_slug(wanted_parents - self.slugs_in_file).keys()
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
        for optional in ("description_zh", "last_verified", "notes"):
            if optional in self.columns:
                fields[optional] = values[optional]
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
        for batch in batches(to_write):
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
        if len(touched) >= ANALYZE_AFTER:
            analyze([Participant, Offering, Participant.tags.through, Participant.history.model])

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
        update_each(participants, fields)
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
        for batch in batches(slugs):
            self.tags.update((t.slug, t) for t in Tag.objects.filter(slug__in=batch))
        missing = {slug: name for slug, name in slugs.items() if slug not in self.tags}
        for batch in batches(set(missing.values())):
            by_name = {t.name: t for t in Tag.objects.filter(name__in=batch).order_by("-pk")}
            for slug, name in missing.items():
                if name in by_name:
                    self.tags[slug] = by_name[name]
        new = [Tag(slug=slug, name=name) for slug, name in missing.items() if slug not in self.tags]
        for tag in Tag.objects.bulk_create(new):
            self.tags[tag.slug] = tag

    def _set_parents(self, parents):
        slugs = {slug for _, slug in parents if slug}
        ids = ids_by_slug(slugs)
        for participant, slug in parents:
            parent_id = ids.get(slug) if slug else None
            if participant.parent_id != parent_id:
                participant.parent_id = parent_id
                participant._change_reason = CHANGE_REASON
                participant.save(update_fields=["parent"])


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
