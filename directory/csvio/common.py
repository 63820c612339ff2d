"""What the CSV formats share: reading a file (encoding, header, line numbers), cells
that spreadsheets would run as formulas, the per-row report, and batched look-ups and
writes. The formats themselves: ``participants.py``, ``relationships.py``, ``export.py``,
and the records' in ``records.py``."""

import csv
import io
import re
from dataclasses import dataclass, field

from django.core.validators import URLValidator
from django.db import connection, transaction

from directory.models import LIST_SEPARATOR, Participant

CHANGE_REASON = "CSV import"
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
    "evidence_zh": 1000,
    "notes": 2000,
    "source_publisher": 2000,
    "source_title": 5000,
    "source_date": 500,
    "source_url": 5000,
    "source_checked": 500,
}
# Spreadsheet programs run cells starting with these as formulas; export prefixes them
# with an apostrophe and import removes it again, so the round trip stays lossless.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED_PREFIXES = FORMULA_PREFIXES + ("'",)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
validate_url = URLValidator(schemes=["http", "https"])


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


def unneutralise(value):
    if value.startswith("'") and value[1:].startswith(_ESCAPED_PREFIXES):
        return value[1:]
    return value


def split_list(value):
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
        yield line, {h: unneutralise(c.strip()) for h, c in zip(header, cells, strict=True)}


def check_text(row, errors):
    for column, value in row.items():
        if _CONTROL.search(value):
            errors.append(f"{column}: contains control characters")
        limit = LIMITS.get(column)
        if limit and len(value) > limit:
            errors.append(f"{column}: longer than {limit} characters")


BATCH = 500  # rows per lookup or bulk write: within every database's parameter limit


def batches(items, size=BATCH):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def update_each(objects, fields):
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


def lowest_ids(queryset, field, values):
    """``{value: id}``: for each of ``values``, the lowest id among the participants of
    ``queryset`` whose ``field`` has that value; a query per batch of values."""
    ids = {}
    for batch in batches(values):
        rows = queryset.filter(**{f"{field}__in": batch}).order_by("-pk").values_list(field, "pk")
        ids.update(rows)  # the lowest id last
    return ids


def ids_by_slug(slugs):
    """``{slug: id}`` of the participants among ``slugs`` (any status), a query per batch."""
    return lowest_ids(Participant.objects.all(), "slug", slugs)


# Writes of at least this many rows refresh the planner's statistics when they commit.
ANALYZE_AFTER = 1000


def analyze(models):
    """Refresh the database's statistics of ``models``' tables once the surrounding
    transaction commits: right after a bulk write the planner still has the empty or
    small table's numbers and picks plans that read every row (a deep page of the
    listing by recent updates took 180 ms instead of 8 until autovacuum caught up)."""

    def run():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("ANALYZE " + ", ".join(m._meta.db_table for m in models))
            else:
                cursor.execute("ANALYZE")

    transaction.on_commit(run, robust=True)
