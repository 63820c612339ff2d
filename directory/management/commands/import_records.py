from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from directory.csvio import ImportFileError, import_record_kinds, import_records
from directory.management.commands._report import print_report


class Command(BaseCommand):
    help = (
        "Import compliance and risk records from a CSV file with the columns "
        "participant,kind,status,date and optionally authority,identifier,entity_name,role,end_date,"
        "checked,notes_en,notes_zh and the source columns (docs/curators.md); with --kinds, the kinds "
        "of record (record-kinds.csv). All rows or none."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--kinds", action="store_true", help="the file holds kinds of record")
        parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")

    def handle(self, file, kinds, dry_run, **options):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from exc
        try:
            report = (import_record_kinds if kinds else import_records)(data, dry_run=dry_run)
        except ImportFileError as exc:
            raise CommandError(f"{file}: {exc}; nothing was written") from exc
        print_report(self, report, dry_run, str(file), options["verbosity"])
