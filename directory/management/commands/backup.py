from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from directory.ops.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the whole database (pg_dump on PostgreSQL, a file copy on SQLite)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", type=Path, help="file to write (default backups/chainsite-<time>.<ext>)"
        )

    def handle(self, output, **options):
        if output is None:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            extension = "dump" if connection.vendor == "postgresql" else "sqlite3"
            output = settings.BASE_DIR / "backups" / f"chainsite-{stamp}.{extension}"
        output.parent.mkdir(parents=True, exist_ok=True)
        try:
            backup(output)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"backup written to {output} ({output.stat().st_size:,} bytes)")
