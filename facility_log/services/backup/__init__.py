"""Backups, restores and moves of a whole installation (`manage.py backup`, `restore`,
`move_database`; docs/operations.md).

* manifest.py — the backup folder's manifest: SHA-256 of every part, signed.
* database.py — the database part: pg_dump / pg_restore on PostgreSQL, SQLite's online backup
  API, and the facts read from the same snapshot (files named, ledger head).
* media.py — the files the snapshot names, copied through Django's storage API.
* archive.py — `make_backup` and `restore_backup`, in the order that keeps a copy consistent.
* move.py — `move_database`: every table, ledger and history included, into an empty database.
"""


class BackupError(Exception):
    """A refusal or failure, as one line an operator can act on."""


def first_line(error: BaseException) -> str:
    """An error's message cut to its first line (drivers often add hints on more lines)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
