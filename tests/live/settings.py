"""Settings for the live-server tests: the project's own, with a short body read timeout so a
test waits seconds, not the default 10."""

from config.settings import *  # noqa: F403

FACILITY_LOG = {**FACILITY_LOG, "BODY_READ_TIMEOUT_SECONDS": 2}  # noqa: F405
