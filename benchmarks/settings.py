"""Benchmark settings: the test settings on a throw-away SQLite file, tables made without migrations."""
import os
import tempfile

from tests.settings import *  # noqa: F401,F403
from tests.settings import NoMigrations

MIGRATION_MODULES = NoMigrations()
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(tempfile.mkdtemp(prefix="shoop-mailchimp-bench-"), "bench.sqlite3"),
        "OPTIONS": {"timeout": 60},
    }
}
DEBUG = False
