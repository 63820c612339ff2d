"""What the import commands share: reading the file, the all-or-nothing import, and the
report."""

from django.core.management.base import CommandError

from directory.csvio import ImportFileError


def run_import(command, file, load, dry_run, verbosity=1, **kwargs):
    """Read ``file`` (a ``Path``), import it with ``load(data, dry_run=..., **kwargs)`` and
    print the report; a file that cannot be read or parsed is a CommandError naming it."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {file}: {exc.strerror}") from exc
    try:
        report = load(data, dry_run=dry_run, **kwargs)
    except ImportFileError as exc:
        raise CommandError(f"{file}: {exc}; nothing was written") from exc
    print_report(command, report, dry_run, str(file), verbosity)


def print_report(command, report, dry_run, label, verbosity=1):
    """Write every bad row with its line number, then the summary; raise CommandError
    (non-zero exit) when any row was bad."""
    for row in report.errors:
        for error in row.errors:
            command.stderr.write(f"line {row.line}: {error}")
    if verbosity >= 2:
        for row in report.rows:
            if row.action in ("create", "update"):
                detail = f" ({', '.join(row.changes)})" if row.action == "update" else ""
                command.stdout.write(f"line {row.line}: {row.action} {row.key}{detail}")
    if report.errors:
        raise CommandError(f"{label}: {len(report.errors)} bad row(s); nothing was written. {report.summary}")
    prefix = "dry run, nothing written: " if dry_run else ""
    command.stdout.write(f"{label}: {prefix}{report.summary}")
