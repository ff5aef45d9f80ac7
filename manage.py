#!/usr/bin/env python
"""Django's command-line utility for Chartbusters."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chartbusters.settings.local")
    from django.core.management import execute_from_command_line

    from chartbusters.folders import local_folders_create

    local_folders_create()  # the SQLite file's and the broker's folders, before `migrate` or any command needs them
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
