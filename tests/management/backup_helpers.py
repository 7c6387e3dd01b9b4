"""Running facility_log as an operator would, for the backup and move tests: management
commands in their own processes, against a database and a media folder given by the
environment (the production settings module, not the test overlay)."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection

PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
PG_URL = "postgres://postgres@127.0.0.1:5432/{name}"

# Makes incidents with a photo each until told to stop: the traffic of a live instance.
WRITER = """
import pathlib, sys, uuid
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from facility_log.models import Category, Site
from facility_log.services import incidents as svc
folder = pathlib.Path({folder!r})
png = (folder / "photo.png").read_bytes()
guard = get_user_model().objects.get(username="guard_a")
site = Site.objects.get(code="ALPHA")
category = Category.objects.get(name="Trespass")
written = 0
while not (folder / "stop").exists() and written < 400:
    incident, _ = svc.create_incident(
        guard, site=site, client_uuid=uuid.uuid4(), category=category,
        narrative=f"live write {{written}}", occurred_from=timezone.now(),
    )
    upload = SimpleUploadedFile(f"live-{{written}}.png", png, content_type="image/png")
    svc.add_attachment(incident, guard, upload=upload, description="live")
    written += 1
    if written == 3:
        (folder / "started").touch()
print(written)
"""


def database_url() -> str:
    """The URL of the database this test runs on (the pytest-django test database)."""
    settings_dict = connection.settings_dict
    if connection.vendor == "postgresql":
        return PG_URL.format(name=settings_dict["NAME"])
    return f"sqlite:///{settings_dict['NAME']}"


def environment(database: str, media: Path | str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database,
        MEDIA_ROOT=str(media or settings.MEDIA_ROOT),
        DEBUG="0",
    )
    return env


def manage(env: dict, *arguments: str, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - this interpreter, our own manage.py
        [sys.executable, "manage.py", *arguments],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=stdin,
        check=False,
    )


def start_writer(env: dict, folder: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-c", WRITER.format(folder=str(folder))],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def postgres_available() -> bool:
    try:
        psycopg.connect(**PG_ADMIN, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def fresh_postgres_database(name: str) -> str:
    """Drop and create one of this task's own databases; returns its URL."""
    with psycopg.connect(**PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return PG_URL.format(name=name)


def drop_postgres_database(name: str) -> None:
    with psycopg.connect(**PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
