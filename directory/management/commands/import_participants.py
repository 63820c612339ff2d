from pathlib import Path

from django.core.management.base import BaseCommand

from directory.csvio import import_participants
from directory.management.commands._report import run_import


class Command(BaseCommand):
    help = "Import participants from a CSV file in the chainsite import format (all rows or none)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")

    def handle(self, file, dry_run, **options):
        def progress(done, total):
            if total >= 500:
                self.stdout.write(f"  {done}/{total} rows written")

        run_import(self, file, import_participants, dry_run, options["verbosity"], progress=progress)
