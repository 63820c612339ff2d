from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from directory.ops.backup import BackupError, restore


class Command(BaseCommand):
    help = "Replace the database's contents with a backup made by `manage.py backup`."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, file, yes, **options):
        if not yes and input(f"Replace the current database with {file}? [y/N] ").strip().lower() != "y":
            raise CommandError("restore cancelled; nothing changed")
        try:
            restore(file)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"restored {file}")
