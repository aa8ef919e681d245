"""Benchmark settings: the test settings on a throw-away SQLite file, tables made without migrations; on
the PostgreSQL that benchmarks/run.py starts when BENCH_PG_PORT is set."""
import os
import tempfile

from tests.settings import *  # noqa: F401,F403
from tests.settings import NoMigrations

MIGRATION_MODULES = NoMigrations()
if os.environ.get("BENCH_PG_PORT"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            # run.py gives each benchmark a database of its own, a copy of one that has every table.
            "NAME": os.environ.get("BENCH_PG_DATABASE") or "postgres",
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": os.environ["BENCH_PG_PORT"],
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("BENCH_SQLITE_PATH")
            or os.path.join(tempfile.mkdtemp(prefix="shoop-mailchimp-bench-"), "bench.sqlite3"),
            "OPTIONS": {"timeout": 60},
        }
    }
DEBUG = False
