from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from directory.csvio import ImportFileError, import_relationships
from directory.management.commands._report import print_report


class Command(BaseCommand):
    help = (
        "Import supplier -> customer relationships from a CSV file with the columns "
        "supplier,customer,kind and optionally status,since,until,supplied_segment,customer_segment,"
        "evidence,evidence_zh and source columns (participants by slug; docs/design.md). All rows or none."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")

    def handle(self, file, dry_run, **options):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from exc
        try:
            report = import_relationships(data, dry_run=dry_run)
        except ImportFileError as exc:
            raise CommandError(f"{file}: {exc}; nothing was written") from exc
        print_report(self, report, dry_run, str(file), options["verbosity"])
