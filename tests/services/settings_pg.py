"""The test settings on a real PostgreSQL and Redis, for the services test and its Celery workers."""
import os

from tests.settings import *  # noqa: F401,F403
from tests.settings import SHOOP_MAILCHIMP as _TEST_SETTINGS
from tests.settings import NoMigrations

MIGRATION_MODULES = NoMigrations()
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "postgres",
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": os.environ.get("SHOOP_MAILCHIMP_PG_PORT", "5432"),
    }
}
SHOOP_MAILCHIMP = dict(
    _TEST_SETTINGS,
    DELIVERY=os.environ.get("SHOOP_MAILCHIMP_DELIVERY", "worker"),
    API_BASE_URL=os.environ.get("SHOOP_MAILCHIMP_API_BASE_URL"),
    REDIS_URL=os.environ.get("SHOOP_MAILCHIMP_REDIS_URL") or None,
    # Long enough for a claimed chunk to be sent even on a busy 2-core machine, short for the killed worker.
    LEASE_SECONDS=int(os.environ.get("SHOOP_MAILCHIMP_LEASE_SECONDS") or 20),
    DRAIN_CHUNK=10,
    # These tests kill workers in the middle of the one-by-one drain and count its requests; bursts (through
    # batches) have their own tests in tests/sync/test_bursts.py. SHOOP_MAILCHIMP_BURST_THRESHOLD turns them on.
    BURST_THRESHOLD=int(os.environ.get("SHOOP_MAILCHIMP_BURST_THRESHOLD") or 0),
    TIMEOUT=(2, 5),
)
