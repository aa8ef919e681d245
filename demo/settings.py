"""Settings for ``make demo``: the Shuup workbench on SQLite under ./var, with shoop_mailchimp.

``demo/run.py`` sets ``SHOOP_MAILCHIMP_DEMO_API_BASE_URL`` (the emulator it started) and, for the
walk, ``SHOOP_MAILCHIMP_DEMO_DB`` (a separate database file).
"""
import os

REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VAR_DIR = os.path.join(REPO_DIR, "var")

# The workbench puts its SQLite file and media under this directory (site-packages otherwise).
os.environ.setdefault("SHUUP_WORKBENCH_BASE_DIR", VAR_DIR)

from shuup_workbench.test_settings import *  # noqa: E402,F401,F403
from shuup_workbench.test_settings import INSTALLED_APPS  # noqa: E402

INSTALLED_APPS = list(INSTALLED_APPS) + ["shoop_mailchimp"]
ROOT_URLCONF = "shuup_workbench.urls"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECRET_KEY = "demo-only-secret-key-not-for-production-use"
MIRAGE_SECRET_KEY = "demo-only-mirage-key-0123456789abcdef"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SHOOP_MAILCHIMP_DEMO_DB") or os.path.join(VAR_DIR, "demo.sqlite3"),
        "OPTIONS": {"timeout": 60},
    }
}
MEDIA_ROOT = os.path.join(VAR_DIR, "demo-media")
STATIC_ROOT = os.path.join(VAR_DIR, "demo-static")
SHUUP_TELEMETRY_ENABLED = False
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SHOOP_MAILCHIMP = {
    "API_BASE_URL": os.environ.get("SHOOP_MAILCHIMP_DEMO_API_BASE_URL"),
    "DELIVERY": "on_commit",
    # Delivered right after each commit, in the same thread. SQLite cannot take the background
    # thread: two connections that read and then write in one transaction fail at once with
    # "database is locked" (a lock upgrade deadlock the busy timeout does not cover). On
    # PostgreSQL or MySQL keep the default (True) so no request waits for Mailchimp.
    "ON_COMMIT_IN_THREAD": False,
    # The emulator answers at once; retry failures quickly so the demo shows them recovering.
    "RETRY_BASE_DELAY": 5,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"short": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"level": "INFO", "class": "logging.StreamHandler", "formatter": "short"}},
    "loggers": {
        "shoop_mailchimp": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "shuup": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
