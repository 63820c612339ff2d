"""The participants CSV export: the import format's columns plus ``slug``, streamed a
chunk at a time so memory stays flat at any size; export then import is lossless."""

import csv
from collections import defaultdict
from itertools import islice

from django.db import connections
from django.db.models.expressions import RawSQL

from directory.csvio.common import neutralise_formula
from directory.csvio.participants import EXPORT_COLUMNS
from directory.models import LIST_SEPARATOR, Offering, Participant

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
    "last_verified",
    "notes",
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
        "last_verified": participant["last_verified"].isoformat() if participant["last_verified"] else "",
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
