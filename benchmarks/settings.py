"""Benchmark settings: the test settings on a throw-away SQLite file, tables made without migrations."""
import os
import tempfile

from tests.settings import *  # noqa: F401,F403


class _NoMigrations(dict):
    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


MIGRATION_MODULES = _NoMigrations()
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(tempfile.mkdtemp(prefix="shoop-mailchimp-bench-"), "bench.sqlite3"),
        "OPTIONS": {"timeout": 60},
    }
}
DEBUG = False
