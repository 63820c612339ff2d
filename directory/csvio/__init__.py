"""The CSV formats of DESIGN.md: participants, relationships and records, each imported
all-or-nothing and idempotently, and exported losslessly. Used by the management
commands, the admin's CSV upload and the public export views."""

from directory.csvio.common import MAX_FILE_BYTES, ImportFileError, ImportReport
from directory.csvio.export import iter_csv
from directory.csvio.participants import EXPORT_COLUMNS, import_participants
from directory.csvio.records import (
    import_record_kinds,
    import_records,
    iter_record_kinds_csv,
    iter_records_csv,
)
from directory.csvio.relationships import import_relationships, iter_relationships_csv, public_links

__all__ = [
    "EXPORT_COLUMNS",
    "MAX_FILE_BYTES",
    "ImportFileError",
    "ImportReport",
    "import_participants",
    "import_record_kinds",
    "import_records",
    "import_relationships",
    "iter_csv",
    "iter_record_kinds_csv",
    "iter_records_csv",
    "iter_relationships_csv",
    "public_links",
]
