"""For migrations whose SQL only PostgreSQL has (covering indexes, storage parameters):
the migration loader skips this module, as every module whose name starts with "_"."""


def on_postgres(sql):
    """A ``RunPython`` function that executes ``sql`` on PostgreSQL and does nothing on
    other databases."""

    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run
