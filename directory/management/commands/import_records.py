from pathlib import Path

from django.core.management.base import BaseCommand

from directory.csvio import import_record_kinds, import_records
from directory.management.commands._report import run_import


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
        load = import_record_kinds if kinds else import_records
        run_import(self, file, load, dry_run, options["verbosity"])
