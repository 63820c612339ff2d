from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from directory.csvio import ImportFileError, import_participants
from directory.management.commands._report import print_report


class Command(BaseCommand):
    help = "Import participants from a CSV file in the chainsite import format (all rows or none)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")

    def handle(self, file, dry_run, **options):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from exc

        def progress(done, total):
            if total >= 500:
                self.stdout.write(f"  {done}/{total} rows written")

        try:
            report = import_participants(data, dry_run=dry_run, progress=progress)
        except ImportFileError as exc:
            raise CommandError(f"{file}: {exc}; nothing was written") from exc
        print_report(self, report, dry_run, str(file), options["verbosity"])
