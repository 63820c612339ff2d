"""Shared output for the import commands."""

from django.core.management.base import CommandError


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
