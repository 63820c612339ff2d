"""Backup and restore of the whole database: pg_dump/pg_restore on PostgreSQL, SQLite's
online backup API on SQLite. Used by ``make backup`` and ``make restore``."""

import os
import shutil
import sqlite3
import subprocess

from django.db import connection


class BackupError(Exception):
    """The backup or restore could not be done; the message says why."""


def _pg_args_env():
    db = connection.settings_dict
    args = ["--host", db.get("HOST") or "127.0.0.1", "--port", str(db.get("PORT") or 5432)]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env, db["NAME"]


def _run(command, env):
    tool = command[0]
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed (PostgreSQL client tools are needed)")
    result = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{tool} failed: {result.stderr.strip()[:2000]}")


def backup(path):
    """Write a consistent snapshot of the database to ``path``."""
    if connection.vendor == "postgresql":
        args, env, name = _pg_args_env()
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(path), *args, name], env)
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
    else:
        raise BackupError(f"no backup method for {connection.vendor}")


def restore(path):
    """Replace the database's contents with the snapshot in ``path``."""
    if not os.path.exists(path):
        raise BackupError(f"{path} does not exist")
    if connection.vendor == "postgresql":
        args, env, name = _pg_args_env()
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--dbname",
                name,
                *args,
                str(path),
            ],
            env,
        )
    elif connection.vendor == "sqlite":
        try:
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            source.execute("SELECT count(*) FROM django_migrations").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} is not a chainsite SQLite backup: {exc}") from exc
        connection.ensure_connection()
        try:
            source.backup(connection.connection)
        finally:
            source.close()
    else:
        raise BackupError(f"no restore method for {connection.vendor}")
