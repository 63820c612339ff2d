"""Indexes for reading the chain at scale (PostgreSQL, where the 100,000-participant target
is measured): the change feed walks the link history newest first, and the links list
(/chain/links/, /api/relationships/) walks the links by start year, newest first."""

from django.db import migrations

from ._postgres import on_postgres

HISTORY = (
    "CREATE INDEX IF NOT EXISTS link_history_event_newest ON directory_historicalrelationship "
    "(event_date DESC, history_id DESC)"
)
LINKS = (
    "CREATE INDEX IF NOT EXISTS link_since_newest ON directory_relationship "
    "(since_year DESC NULLS LAST, id DESC)"
)


class Migration(migrations.Migration):
    dependencies = [("directory", "0019_curators_curate_sources_and_records")]

    operations = [
        migrations.RunPython(
            on_postgres(HISTORY), on_postgres("DROP INDEX IF EXISTS link_history_event_newest")
        ),
        migrations.RunPython(on_postgres(LINKS), on_postgres("DROP INDEX IF EXISTS link_since_newest")),
    ]
