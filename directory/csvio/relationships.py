"""The relationships CSV: links between participants (by slug) with their kind, status,
dates, segments, evidence in both languages and sources. Import validates every row,
then writes all or none in one transaction; a second import of the same file changes
nothing; the export (``iter_relationships_csv``) writes the same columns, so export then
import is lossless.

Sources are four columns (``source_publisher``, ``source_title``, ``source_date``,
``source_url``, and optionally ``source_checked``) holding one item per source, several
separated by ``|``, in the same order in each column; an item may be empty between two
``|`` where that source has none (a URL, a date checked).
"""

import csv
import datetime
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from directory.catalog.cache import directory_changed
from directory.csvio.common import (
    ANALYZE_AFTER,
    CHANGE_REASON,
    ImportReport,
    RowResult,
    analyze,
    batches,
    check_text,
    ids_by_slug,
    neutralise_formula,
    read_csv,
    update_each,
    validate_url,
)
from directory.models import (
    LIST_SEPARATOR,
    PARTIAL_DATE,
    TIER_ORDER,
    LinkStatus,
    Offering,
    Participant,
    Relationship,
    RelationshipKind,
    Segment,
    Source,
    parse_period,
)

REQUIRED_COLUMNS = ["supplier", "customer", "kind"]
SOURCE_COLUMNS = ["source_publisher", "source_title", "source_date", "source_url", "source_checked"]
COLUMNS = [
    *REQUIRED_COLUMNS,
    "status",
    "since",
    "until",
    "supplied_segment",
    "customer_segment",
    "evidence",
    "evidence_zh",
    *SOURCE_COLUMNS,
]
# What an update compares and writes (``sources`` apart: a set of keys).
_FIELDS = [
    "status",
    "since_year",
    "since_month",
    "until_year",
    "until_month",
    "supplied_segment_id",
    "customer_segment_id",
    "evidence",
    "evidence_zh",
]


def _source_items(row, errors):
    """The row's sources as ``(publisher, title, published, url, checked)`` keys."""
    columns = {name: row.get(name, "").split(LIST_SEPARATOR) for name in SOURCE_COLUMNS}
    count = len(columns["source_publisher"]) if row.get("source_publisher") else 0
    for name in SOURCE_COLUMNS[1:]:
        if row.get(name) and len(columns[name]) != count:
            errors.append(f"{name}: {len(columns[name])} item(s) for {count} source(s); separate them with |")
            return []
    items = []
    for i in range(count):
        publisher, title = columns["source_publisher"][i].strip(), columns["source_title"][i].strip()
        published = columns["source_date"][i].strip() if row.get("source_date") else ""
        url = columns["source_url"][i].strip() if row.get("source_url") else ""
        checked = columns["source_checked"][i].strip() if row.get("source_checked") else ""
        if not publisher or not title:
            errors.append(f"source {i + 1}: a source needs a publisher and a title")
            continue
        if len(publisher) > 200 or len(title) > 500:
            errors.append(f"source {i + 1}: publisher or title too long")
        try:
            if published:
                PARTIAL_DATE(published)
        except ValidationError:
            errors.append(f"source_date: {published[:20]} is not YYYY, YYYY-MM or YYYY-MM-DD")
        if url:
            try:
                validate_url(url)
            except ValidationError:
                errors.append(f"source_url: not an http(s) address: {url[:80]}")
        try:
            checked_date = datetime.date.fromisoformat(checked) if checked else None
        except ValueError:
            errors.append(f"source_checked: {checked[:20]} is not YYYY-MM-DD")
            checked_date = None
        items.append((publisher, title, published, url, checked_date))
    return items


def _segments_of(participant_ids):
    """``{participant id: {segment id a link may name for it}}``: its offerings' segments
    and their parents, a query per batch."""
    found = defaultdict(set)
    for batch in batches(participant_ids):
        rows = Offering.objects.filter(participant_id__in=batch).values_list(
            "participant_id", "segment_id", "segment__parent_id"
        )
        for participant_id, segment_id, parent_id in rows:
            found[participant_id].add(segment_id)
            if parent_id:
                found[participant_id].add(parent_id)
    return found


def import_relationships(data, dry_run=False):
    """Validate and (unless ``dry_run`` or any row is bad) apply a relationships CSV.

    A row updates the link with the same supplier, customer and kind, else creates one.
    ``status`` defaults to active; a segment left empty defaults to that side's first
    segment in chain order. Returns an ``ImportReport``; raises ``ImportFileError`` when
    the file as a whole cannot be read."""
    rows = list(read_csv(data, REQUIRED_COLUMNS))
    slugs = {r.get(side, "") for _, r in rows if r for side in ("supplier", "customer")}
    ids = ids_by_slug(slugs)
    segments = {s.slug: s for s in Segment.objects.all()}
    allowed = _segments_of(set(ids.values()))
    chain_order = {s.pk: (TIER_ORDER.index(s.tier), s.order, s.slug) for s in segments.values()}
    report, plan, seen = ImportReport(), [], {}
    for line, row in rows:
        result = RowResult(line=line)
        report.rows.append(result)
        if row is None:
            result.errors.append("more cells than header columns")
            continue
        wanted = _validate(row, result.errors, ids, segments, allowed, chain_order)
        key = (row["supplier"], row["customer"], row["kind"])
        result.key = " -> ".join(key)
        if key in seen and not result.errors:
            result.errors.append(f"same supplier, customer and kind as line {seen[key]}")
        if result.errors:
            result.action = "error"
            continue
        seen[key] = line
        plan.append((result, (ids[row["supplier"]], ids[row["customer"]], row["kind"]), wanted))
    plan = _one_date_checked_per_source(plan)
    existing = _existing_links([link for _, link, _ in plan])
    for result, link, wanted in plan:
        if link not in existing:
            result.action = "create"
        else:
            current = existing[link]
            result.changes = [name for name in _FIELDS if getattr(current, name) != wanted[name]]
            if set(wanted["sources"]) != current.source_keys:
                result.changes.append("sources")
            result.action = "update" if result.changes else "unchanged"
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        _write(plan, existing)
    report.written = True
    return report


def _one_date_checked_per_source(plan):
    """``plan`` without the rows that give a source (one document: its publisher, title,
    date and URL) another date checked than an earlier row does; those get an error."""
    first = {}
    for result, _link, wanted in plan:
        for publisher, title, published, url, checked in wanted["sources"]:
            earlier, line = first.setdefault((publisher, title, published, url), (checked, result.line))
            if checked != earlier:
                result.errors.append(
                    f"source_checked: {publisher[:40]}, {title[:60]} checked {checked or 'never'} here "
                    f"but {earlier or 'never'} on line {line}"
                )
                result.action = "error"
    return [item for item in plan if not item[0].errors]


def _validate(row, errors, ids, segments, allowed, chain_order):
    """The row's values to write, or None with ``errors`` filled."""
    check_text(row, errors)
    supplier, customer = ids.get(row["supplier"]), ids.get(row["customer"])
    for column, found in (("supplier", supplier), ("customer", customer)):
        if found is None:
            errors.append(f"{column}: no participant with slug {row[column][:60]}")
    if supplier is not None and supplier == customer:
        errors.append("supplier and customer are the same participant")
    if row["kind"] not in RelationshipKind.values:
        errors.append(f"kind: must be one of {', '.join(RelationshipKind.values)}")
    status = row.get("status") or LinkStatus.ACTIVE
    if status not in LinkStatus.values:
        errors.append(f"status: must be one of {', '.join(LinkStatus.values)}")
    periods = {}
    for column in ("since", "until"):
        try:
            periods[column] = parse_period(row.get(column, ""))
        except ValueError:
            errors.append(f"{column}: {row[column][:20]} is not YYYY or YYYY-MM")
            periods[column] = (None, None)
    (since_year, since_month), (until_year, until_month) = periods["since"], periods["until"]
    if since_year and until_year and (until_year, until_month or 13) < (since_year, since_month or 0):
        errors.append("until: before since")
    if status == LinkStatus.ENDED and not until_year:
        errors.append("until: an ended link needs the year it ended")
    chosen = {}
    for column, side in (("supplied_segment", supplier), ("customer_segment", customer)):
        slug = row.get(column, "")
        if side is None:
            continue
        if not slug:
            own = sorted(allowed.get(side, ()), key=lambda pk: chain_order[pk])
            if not own:
                errors.append(f"{column}: the {column.split('_')[0]} has no offering, so no segment")
                continue
            chosen[column] = own[0]
        elif slug not in segments:
            errors.append(f"{column}: unknown segment {slug[:40]}")
        elif segments[slug].pk not in allowed.get(side, ()):
            who = "supplier" if column == "supplied_segment" else "customer"
            errors.append(f"{column}: {slug} is not one of the {who}'s segments (it has no offering there)")
        else:
            chosen[column] = segments[slug].pk
    sources = _source_items(row, errors)
    if errors:
        return None
    return {
        "status": status,
        "since_year": since_year,
        "since_month": since_month,
        "until_year": until_year,
        "until_month": until_month,
        "supplied_segment_id": chosen["supplied_segment"],
        "customer_segment_id": chosen["customer_segment"],
        "evidence": row.get("evidence", ""),
        "evidence_zh": row.get("evidence_zh", ""),
        "sources": sources,
    }


def _existing_links(links):
    """``{(supplier id, customer id, kind): Relationship}`` of those of ``links`` that
    exist, each with ``source_keys``: its sources' keys."""
    found = {}
    for batch in batches(links):
        suppliers = {supplier for supplier, _, _ in batch}
        customers = {customer for _, customer, _ in batch}
        for link in Relationship.objects.filter(
            supplier_id__in=suppliers, customer_id__in=customers
        ).prefetch_related("sources"):
            link.source_keys = {_key(s) for s in link.sources.all()}
            found[link.supplier_id, link.customer_id, link.kind] = link
    wanted = set(links)
    return {key: link for key, link in found.items() if key in wanted}


def _key(source):
    return (source.publisher, source.title, source.published, source.url, source.checked)


def _write(plan, existing):
    """Create and update the planned links, their history rows and their sources."""
    new, changed = [], []
    for result, (supplier, customer, kind), wanted in plan:
        values = {name: wanted[name] for name in _FIELDS}
        if result.action == "create":
            link = Relationship(supplier_id=supplier, customer_id=customer, kind=kind, **values)
            link.note_event(None)
            new.append((link, wanted["sources"]))
        elif result.action == "update":
            link = existing[supplier, customer, kind]
            previous = link.status
            for name, value in values.items():
                setattr(link, name, value)
            link.note_event(previous)
            changed.append((link, wanted["sources"]))
    for batch in batches(new):
        bulk_create_with_history(
            [link for link, _ in batch], Relationship, default_change_reason=CHANGE_REASON
        )
    for batch in batches(changed):
        update_each([link for link, _ in batch], [*_FIELDS, "event", "event_date"])
    sources = _sources({key for _, keys in new + changed for key in keys})
    through = Relationship.sources.through
    for batch in batches(changed):
        through.objects.filter(relationship_id__in=[link.pk for link, _ in batch]).delete()
    rows = [
        through(relationship_id=link.pk, source_id=sources[key])
        for link, keys in new + changed
        for key in dict.fromkeys(keys)
    ]
    through.objects.bulk_create(rows, batch_size=500)
    if new or changed:
        directory_changed()  # bulk writes send no signals
    if len(new) + len(changed) >= ANALYZE_AFTER:
        analyze([Relationship, Relationship.sources.through, Relationship.history.model, Source])


def _sources(keys):
    """``{key: source id}`` for every key, creating the sources not stored yet. A source
    is stored once per document (publisher, title, date, URL: ``source_unique``); one
    stored with another date checked than the file's takes the file's."""
    stored = {}
    for batch in batches(keys):
        publishers = {key[0] for key in batch}
        for source in Source.objects.filter(publisher__in=publishers):
            stored[_key(source)[:4]] = source
    rechecked = []
    for key in keys:
        source = stored.get(key[:4])
        if source is not None and source.checked != key[4]:
            source.checked = key[4]
            rechecked.append(source)
    Source.objects.bulk_update(rechecked, ["checked"], batch_size=500)
    missing = [key for key in keys if key[:4] not in stored]
    created = Source.objects.bulk_create(
        [Source(publisher=p, title=t, published=d, url=u, checked=c) for p, t, d, u, c in missing],
        batch_size=500,
    )
    if created and created[0].pk is None:  # a database that returns no ids on bulk insert
        return _sources(keys)
    found = {key: stored[key[:4]].pk for key in keys if key[:4] in stored}
    found.update((_key(source), source.pk) for source in created)
    return found


class _Echo:
    def write(self, value):
        return value


def source_cells(sources):
    """The source columns of a row citing ``sources`` (a column whose items are all
    empty is left empty), in a stable order."""
    sources = sorted(sources, key=lambda s: (s.published, s.publisher, s.title, s.url))

    def joined(values):
        values = list(values)
        return LIST_SEPARATOR.join(values) if any(values) else ""

    return {
        "source_publisher": joined(s.publisher for s in sources),
        "source_title": joined(s.title for s in sources),
        "source_date": joined(s.published for s in sources),
        "source_url": joined(s.url for s in sources),
        "source_checked": joined(s.checked.isoformat() if s.checked else "" for s in sources),
    }


def relationship_rows(queryset):
    """The CSV rows of the links ``queryset`` (in its order), a few queries in all."""
    links = queryset.select_related(
        "supplier", "customer", "supplied_segment", "customer_segment"
    ).prefetch_related("sources")
    for link in links.iterator(chunk_size=1000):
        values = {
            "supplier": link.supplier.slug,
            "customer": link.customer.slug,
            "kind": link.kind,
            "status": link.status,
            "since": link.since,
            "until": link.until,
            "supplied_segment": link.supplied_segment.slug if link.supplied_segment else "",
            "customer_segment": link.customer_segment.slug if link.customer_segment else "",
            "evidence": link.evidence,
            "evidence_zh": link.evidence_zh,
            **source_cells(link.sources.all()),
        }
        yield [neutralise_formula(values[c]) for c in COLUMNS]


def iter_relationships_csv(queryset):
    """Yield the relationships CSV of ``queryset``: the header, then a line per link."""
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for row in relationship_rows(queryset):
        yield writer.writerow(row)


def public_links():
    """Every link between two published participants, in a stable order (the export)."""
    published = Participant.objects.published()
    return Relationship.objects.filter(supplier__in=published, customer__in=published).order_by(
        "supplier__slug", "customer__slug", "kind"
    )
