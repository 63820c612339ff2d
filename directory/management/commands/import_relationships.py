from pathlib import Path

from django.core.management.base import BaseCommand

from directory.csvio import import_relationships
from directory.management.commands._report import run_import


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
        run_import(self, file, import_relationships, dry_run, options["verbosity"])
