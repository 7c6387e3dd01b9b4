"""FACILITY_LOG_LOST_PROPERTY_DAYS sets how long a found item is kept (90 days unless set); a
value that is not a number of days stops the start with its name."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = (
    "import django; django.setup(); "
    "from facility_log.services import lost_found; print(lost_found.keep_days())"
)


def _keep_days(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k != "FACILITY_LOG_LOST_PROPERTY_DAYS"}
    return subprocess.run(
        [sys.executable, "-c", CODE],
        cwd=ROOT,
        env={**clean, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_period_comes_from_the_environment():
    assert _keep_days().stdout.split() == ["90"]
    assert _keep_days(FACILITY_LOG_LOST_PROPERTY_DAYS="30").stdout.split() == ["30"]


def test_a_period_that_is_not_a_number_of_days_names_the_variable():
    result = _keep_days(FACILITY_LOG_LOST_PROPERTY_DAYS="0")
    assert result.returncode != 0 and "FACILITY_LOG_LOST_PROPERTY_DAYS" in result.stderr
