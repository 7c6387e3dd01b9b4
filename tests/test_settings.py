"""Start-up configuration: production by default, and a clear error naming what is missing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


# What the test run itself sets, and a real start-up would not have.
TEST_ONLY_ENV = {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _clean_env(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_ENV}
    clean.update(env)
    return clean


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = _clean_env(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_debug_off_without_secret_key_exits_naming_secret_key():
    result = _manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_gunicorn_entry_point_also_refuses_without_secret_key():
    code = "import config.wsgi"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_unreadable_debug_value_is_an_error_not_a_guess():
    result = _manage("check", DEBUG="maybe", SECRET_KEY="x" * 60)
    assert result.returncode != 0
    assert "DEBUG='maybe'" in result.stderr


@pytest.mark.parametrize("database_url", ["sqlite:////tmp/facility_log_deploy_check.sqlite3"])
def test_production_settings_pass_the_deploy_check(database_url):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="a-long-random-production-key-" + "k" * 40,
        DEBUG="0",
        ALLOWED_HOSTS="log.example.org",
        DATABASE_URL=database_url,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_database_url_selects_postgresql_with_persistent_connections():
    code = (
        "from django.conf import settings as s; d = s.DATABASES['default'];"
        "print(d['ENGINE'], d['NAME'], d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    env = dict(
        os.environ,
        DATABASE_URL="postgres://u@db.example:5432/fl",
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.split() == ["django.db.backends.postgresql", "fl", "600", "True"]


def test_times_are_stored_in_utc():
    from django.conf import settings

    assert settings.USE_TZ is True
    assert settings.TIME_ZONE == "UTC"
