"""SQLite: an FTS5 table over the participants' search text, kept in step by triggers,
so searching ranks (bm25) and matches whole words on the embedded default too
(directory/catalog/search.py, ``ensure_fts``, which also runs after every migration).
PostgreSQL searches its own ``search_vector``: nothing to do there."""

from django.db import migrations

from directory.catalog.search import FTS_TABLE, ensure_fts


def create(apps, schema_editor):
    ensure_fts(schema_editor.connection)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name in ("insert", "delete", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{name}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("directory", "0011_postgres_facet_index_rows")]

    operations = [migrations.RunPython(create, drop)]
