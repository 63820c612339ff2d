"""A covering index of the published participants' ids and names.

Aggregates over relationships and offerings (a segment's trading partners, the listing's
bitmap index of segment members) check the status of every participant they meet, and
the trading partners read the names of the top ones. Without this index that is a scan
of the whole participant table, wide with descriptions and search text; with it an
index-only scan of a tenth of the size.

PostgreSQL only (SQLite has no INCLUDE columns), where the operation does nothing.
"""

from django.db import migrations

from ._postgres import on_postgres

CREATE = (
    "CREATE INDEX IF NOT EXISTS participant_status_id_names "
    "ON directory_participant (status, id) INCLUDE (slug, name_en, name_zh)"
)
DROP = "DROP INDEX IF EXISTS participant_status_id_names"


class Migration(migrations.Migration):
    dependencies = [("directory", "0006_i18n_verbose_names")]

    operations = [migrations.RunPython(on_postgres(CREATE), on_postgres(DROP))]
