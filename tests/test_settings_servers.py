"""Settings for several servers: object storage and the shared cache come from the
environment, a wrong value stops start-up naming the variable, and the cache that CACHE_URL
names is one cache for every process (what one process stores, another reads)."""

import socket
import uuid

import pytest

from tests.test_settings import _manage

PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "log.example.org"}


def _shell(code: str, **env: str):
    return _manage("shell", "--verbosity", "0", "-c", code, **{**PRODUCTION, **env})


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"FILE_STORAGE": "s3"}, "S3_BUCKET"),
        ({"FILE_STORAGE": "ftp"}, "FILE_STORAGE"),
        ({"CACHE_URL": "memcached://127.0.0.1"}, "CACHE_URL"),
    ],
)
def test_a_wrong_storage_or_cache_setting_stops_start_up_naming_it(env, named):
    result = _manage("check", **{**PRODUCTION, **env})
    assert result.returncode != 0
    assert named in result.stderr and "Traceback" not in result.stderr


def test_file_storage_s3_makes_the_bucket_the_default_storage():
    result = _shell(
        "from django.core.files.storage import storages; s = storages['default']; "
        "print(type(s).__name__, s.bucket_name, s.location, s.file_overwrite, s.max_memory_size)",
        FILE_STORAGE="s3",
        S3_BUCKET="evidence",
        S3_PREFIX="hq",
        S3_ENDPOINT_URL="http://127.0.0.1:9",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["S3Storage", "evidence", "hq", "False", "2097152"]


def _shared_between_processes(tmp_path, **env: str) -> str:
    key = f"k-{uuid.uuid4().hex}"
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cache.sqlite3'}", **env}
    if env.get("CACHE_URL") == "db":
        made = _manage("createcachetable", **{**PRODUCTION, **env})
        assert made.returncode == 0, made.stderr
    stored = _shell(f"from django.core.cache import cache; cache.set({key!r}, 'seen', 60)", **env)
    assert stored.returncode == 0, stored.stderr
    read = _shell(f"from django.core.cache import cache; print(cache.get({key!r}))", **env)
    assert read.returncode == 0, read.stderr
    return read.stdout.strip()


def test_the_database_cache_is_shared_between_processes(tmp_path):
    assert _shared_between_processes(tmp_path, CACHE_URL="db") == "seen"


def test_the_redis_cache_is_shared_between_processes(tmp_path):
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    shared = _shared_between_processes(
        tmp_path, CACHE_URL="redis://127.0.0.1:6379/0", CACHE_KEY_PREFIX=uuid.uuid4().hex
    )
    assert shared == "seen"


def test_without_cache_url_each_process_has_its_own_cache(tmp_path):
    """The single-server default: the reason docs/deploy.md asks for CACHE_URL."""
    assert _shared_between_processes(tmp_path) == "None"
