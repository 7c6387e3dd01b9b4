"""Settings for benchmarks served by gunicorn: the project's own settings (from the
environment, as in production) with the bench's URLs added. Never used by the application."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.server.urls"
