"""A local S3 stand-in for the tests: moto's server on a free port of 8170-8179 (no network,
no account), and a fixture that points Django's default storage at a fresh bucket on it, the
way `FILE_STORAGE=s3` does in production (config/settings.py).

Import the fixtures into a test module: `from tests.object_storage import s3, s3_server`."""

import logging
import socket
import threading
import uuid
from dataclasses import dataclass

import pytest

PORTS = range(8170, 8180)
CREDENTIALS = {"access_key": "testing", "secret_key": "testing"}
REGION = "us-east-1"


def free_port(ports=PORTS) -> int:
    """The first port of `ports` nobody listens on (the SQLite and PostgreSQL suites run side
    by side in CI, each with its own servers)."""
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


@dataclass
class Bucket:
    """A bucket on the moto server, with a boto3 client to look behind the app's back."""

    endpoint: str
    name: str
    client: object

    def keys(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def storage_settings(self) -> dict:
        """STORAGES["default"] as config/settings.py builds it for FILE_STORAGE=s3."""
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": self.name,
                "endpoint_url": self.endpoint,
                "region_name": REGION,
                "file_overwrite": False,
                "default_acl": None,
                "max_memory_size": 2 * 1024 * 1024,
                **CREDENTIALS,
            },
        }

    def environment(self) -> dict[str, str]:
        """The same storage as environment variables, for a server started as a process."""
        return {
            "FILE_STORAGE": "s3",
            "S3_BUCKET": self.name,
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_REGION": REGION,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["access_key"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["secret_key"],
        }


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server, in a thread of the test process, for the whole run.

    Like moto's ThreadedMotoServer, but the port is bound here, before the thread starts: a
    port taken since `free_port` looked (the other suite in CI) is an error to step past, not a
    thread that never signals it is ready."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    # Its request log would fill every failing test's output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = DomainDispatcherApplication(create_backend_app)
    for _attempt in range(5):
        try:
            server = make_server(
                "127.0.0.1", free_port(), app, threaded=True, request_handler=MotoRequestHandler
            )
            break
        except OSError:
            continue
    else:
        raise RuntimeError(f"moto's server found no free port in {PORTS.start}-{PORTS.stop - 1}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def make_bucket(endpoint: str) -> Bucket:
    """A fresh, private bucket on the moto server at `endpoint`."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["access_key"],
        aws_secret_access_key=CREDENTIALS["secret_key"],
    )
    bucket = Bucket(endpoint, f"facility-log-{uuid.uuid4().hex[:12]}", client)
    client.create_bucket(Bucket=bucket.name)
    return bucket


@pytest.fixture
def s3(s3_server, settings) -> Bucket:
    """A fresh bucket, and Django's default storage pointed at it for this test."""
    bucket = make_bucket(s3_server)
    settings.STORAGES = {**settings.STORAGES, "default": bucket.storage_settings()}
    return bucket
