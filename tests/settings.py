import os
import tempfile

from demo.babel_listing import cache_babel_locale_listing

cache_babel_locale_listing()

from shuup_workbench.test_settings import *  # noqa: E402,F401,F403
from shuup_workbench.test_settings import INSTALLED_APPS, MIDDLEWARE  # noqa: E402

INSTALLED_APPS = list(INSTALLED_APPS) + ["shoop_mailchimp"]
MIDDLEWARE = list(MIDDLEWARE) + ["shoop_mailchimp.storefront.attribution.CampaignAttributionMiddleware"]

_DB_DIR = os.environ.get("SHOOP_MAILCHIMP_TEST_DB_DIR") or tempfile.gettempdir()
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(_DB_DIR, "shoop_mailchimp_tests.sqlite3"),
        "TEST": {"NAME": os.path.join(_DB_DIR, "shoop_mailchimp_tests_%s.sqlite3" % os.getpid())},
        "OPTIONS": {"timeout": 60},
    }
}
MEDIA_ROOT = os.path.join(_DB_DIR, "shoop_mailchimp_media")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

class NoMigrations(dict):
    """MIGRATION_MODULES that creates tables straight from the models, for processes outside pytest
    (pytest itself runs with --nomigrations)."""

    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


SHOOP_MAILCHIMP = {
    # tests/conftest.py runs the drainer's round synchronously where the background thread would be
    # woken (after each commit that recorded a change); the thread itself is tested on its own.
    "DELIVERY": "background",
    "TIMEOUT": (2, 5),
    "RETRY_BASE_DELAY": 1,
}
