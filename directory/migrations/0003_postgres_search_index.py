"""GIN index on the stored search vector, and a trigram index for name look-ups.

PostgreSQL only: these index types do not exist on SQLite, where the operations do nothing.
"""

from django.db import migrations


def _on_postgres(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


OPERATIONS = [
    ("CREATE EXTENSION IF NOT EXISTS pg_trgm", ""),
    (
        "CREATE INDEX IF NOT EXISTS participant_search_vector_gin "
        "ON directory_participant USING gin (search_vector)",
        "DROP INDEX IF EXISTS participant_search_vector_gin",
    ),
    (
        "CREATE INDEX IF NOT EXISTS participant_search_names_trgm "
        "ON directory_participant USING gin (search_names gin_trgm_ops)",
        "DROP INDEX IF EXISTS participant_search_names_trgm",
    ),
]


class Migration(migrations.Migration):
    dependencies = [("directory", "0002_canonical_segments")]

    operations = [
        migrations.RunPython(_on_postgres(sql), _on_postgres(undo) if undo else migrations.RunPython.noop)
        for sql, undo in OPERATIONS
    ]
