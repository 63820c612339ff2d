from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from directory.csvio import ImportFileError, import_participants, import_relationships
from directory.csvio.records import import_record_kinds, import_records
from directory.csvio.segments import import_segments
from directory.management.commands._report import print_report
from directory.models import Participant


class Command(BaseCommand):
    help = (
        "Load the real chain data shipped in data/seed/: segments.csv (sub-segments), "
        "participants-*.csv, relationships-*.csv, then records (record-kinds.csv, records.csv). "
        "Idempotent: a second run reports everything unchanged; it sets seeded rows back to "
        "the files' values, so `make run` and `make serve` pass --if-empty."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="load only into a directory without real participants (curators' edits are kept)",
        )

    def handle(self, dry_run, if_empty, **options):
        if if_empty and Participant.objects.real().exists():
            self.stdout.write(
                "load_seed: the directory has data already; nothing loaded (curators' edits kept)"
            )
            return
        seed = settings.BASE_DIR / "data" / "seed"
        # The participants files are one import (a parent may be in another file), and so
        # are the relationships files; a bad row is reported by its file and line.
        steps = [
            ("segments.csv", [seed / "segments.csv"], import_segments),
            ("participants-*.csv", sorted(seed.glob("participants-*.csv")), import_participants),
            ("relationships-*.csv", sorted(seed.glob("relationships-*.csv")), import_relationships),
            ("record-kinds.csv", [seed / "record-kinds.csv"], import_record_kinds),
            ("records.csv", [seed / "records.csv"], import_records),
        ]
        for label, paths, load in steps:
            paths = [path for path in paths if path.exists()]
            if not paths:
                continue
            data, lines = _joined(paths)
            try:
                report = load(data, dry_run=dry_run)
            except ImportFileError as exc:
                raise CommandError(f"{label}: {exc}; nothing was written") from exc
            for row in report.rows:
                row.line = lines[row.line - 1] if 0 < row.line <= len(lines) else row.line
            print_report(self, report, dry_run, f"{seed.name}/{label}", options["verbosity"])


def _joined(paths):
    """The files as one CSV text (their headers must agree), and for each line of it the
    ``file:line`` it came from."""
    texts, lines, header = [], [], None
    for path in paths:
        text = path.read_text(encoding="utf-8-sig")
        first, _, body = text.partition("\n")
        if header is None:
            header = first
            texts.append(first + "\n")
            lines.append(f"{path.name}:1")
        elif first.strip() != header.strip():
            raise CommandError(f"{path}: its header differs from {paths[0].name}'s")
        body = body if body.endswith("\n") or not body else body + "\n"
        texts.append(body)
        lines.extend(f"{path.name}:{n}" for n in range(2, body.count("\n") + 2))
    return "".join(texts), lines
