#!/usr/bin/env python
"""Django's command-line utility for the workspace (set CCHC_DATA to the data folder)."""
import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.cchcweb.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
