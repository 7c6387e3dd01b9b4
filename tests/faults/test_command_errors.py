"""Commands end in one line on stderr and a non-zero exit when the database fails under them
(an import with the database gone printed a 148-line traceback before)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "access-events" / "generic.csv"
# A port of this worktree's range where nothing listens: the database is "down".
DOWN = "postgres://postgres@127.0.0.1:5449/fl_faults_down"


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": DOWN, "DEBUG": "1"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("import_access_events", str(SAMPLE), "--site=ALPHA", "--format=generic-csv"),
        ("check_rounds",),
        ("verify_audit",),
    ],
)
def test_a_command_without_its_database_says_so_in_one_line(args):
    result = _run(*args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("CommandError: The database failed (")
    assert "run the command again once the database is back" in lines[0]
