#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Commands and the task worker run long statements by design (imports, verification,
    # purges): the statement timeout is for requests (config/settings.py).
    os.environ.setdefault("DB_STATEMENT_TIMEOUT", "0")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # A missing setting is the operator's to fix: say which, without a traceback.
        sys.stderr.write(f"facility_log: configuration error: {error}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
