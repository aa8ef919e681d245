"""Settings for ``make demo``: a Shuup shop as its owner meets it, on SQLite under ./var, with shoop_mailchimp.

Built from the apps of Shuup's workbench (``shuup_workbench.settings``) without its test
helpers, so the admin shows no mock objects. ``demo/run.py`` passes, through the environment,
the emulator it started (``SHOOP_MAILCHIMP_DEMO_API_BASE_URL``), the shop's own address for the
webhook (``SHOOP_MAILCHIMP_DEMO_WEBHOOK_BASE_URL``) and, for the walk, another database file
(``SHOOP_MAILCHIMP_DEMO_DB``).
"""
import os

from demo.babel_listing import cache_babel_locale_listing

cache_babel_locale_listing()

REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VAR_DIR = os.path.join(REPO_DIR, "var")

DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECRET_KEY = "demo-only-secret-key-not-for-production-use"
MIRAGE_SECRET_KEY = "demo-only-mirage-key-0123456789abcdef"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "easy_thumbnails",
    "shuup.themes.classic_gray",
    "shuup.core",
    "shuup.admin",
    "shuup.addons",
    "shuup.default_tax",
    "shuup.front",
    "shuup.front.apps.auth",
    "shuup.front.apps.carousel",
    "shuup.front.apps.customer_information",
    "shuup.front.apps.personal_order_history",
    "shuup.front.apps.saved_carts",
    "shuup.front.apps.registration",
    "shuup.front.apps.simple_order_notification",
    "shuup.front.apps.simple_search",
    "shuup.front.apps.recently_viewed_products",
    "shuup.notify",
    "shuup.simple_cms",
    "shuup.customer_group_pricing",
    "shuup.campaigns",
    "shuup.simple_supplier",
    "shuup.order_printouts",
    "shuup.utils",
    "shuup.xtheme",
    "shuup.reports",
    "shuup.default_reports",
    "shuup.regions",
    "shuup.importer",
    "shuup.default_importer",
    "shuup.gdpr",
    "shuup.tasks",
    "shuup.discounts",
    "bootstrap3",
    "django_countries",
    "django_jinja",
    "django_filters",
    "filer",
    "reversion",
    "registration",
    "rest_framework",
    "shoop_mailchimp",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "shuup.front.middleware.ProblemMiddleware",
    "shuup.core.middleware.ShuupMiddleware",
    "shuup.front.middleware.ShuupFrontMiddleware",
    "shuup.xtheme.middleware.XthemeMiddleware",
    "shuup.admin.middleware.ShuupAdminMiddleware",
    "shoop_mailchimp.storefront.attribution.CampaignAttributionMiddleware",
]

ROOT_URLCONF = "demo.urls"

DATABASES = {
    "default": {
        # The web server, the Mailchimp worker and run.py share this file: see sqlite_backend.
        "ENGINE": "demo.sqlite_backend",
        "NAME": os.environ.get("SHOOP_MAILCHIMP_DEMO_DB") or os.path.join(VAR_DIR, "demo.sqlite3"),
        "OPTIONS": {"timeout": 60},
    }
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


class TablesFromModels(dict):
    """MIGRATION_MODULES for ``SHOOP_MAILCHIMP_DEMO_TABLES_FROM_MODELS=1`` (the benchmarks): tables are made
    straight from the models, as the tests make them, in seconds rather than Shuup's minute of migrations.
    Such a database cannot be migrated later; ``make demo`` never sets it."""

    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


TABLES_FROM_MODELS = bool(os.environ.get("SHOOP_MAILCHIMP_DEMO_TABLES_FROM_MODELS"))
if TABLES_FROM_MODELS:
    MIGRATION_MODULES = TablesFromModels()

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English")]
PARLER_DEFAULT_LANGUAGE_CODE = "en"
PARLER_LANGUAGES = {None: [{"code": "en", "name": "English"}], "default": {"hide_untranslated": False}}
TIME_ZONE = "UTC"
USE_I18N = True
USE_L10N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = os.path.join(VAR_DIR, "demo-static")
MEDIA_URL = "/media/"
MEDIA_ROOT = os.path.join(VAR_DIR, "demo-media")
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
DEFAULT_FROM_EMAIL = "no-reply@example.com"
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
SESSION_SERIALIZER = "django.contrib.sessions.serializers.PickleSerializer"

_CONTEXT_PROCESSORS = [
    "django.contrib.auth.context_processors.auth",
    "django.template.context_processors.debug",
    "django.template.context_processors.i18n",
    "django.template.context_processors.media",
    "django.template.context_processors.static",
    "django.template.context_processors.request",
    "django.template.context_processors.tz",
    "django.contrib.messages.context_processors.messages",
]
TEMPLATES = [
    {
        "BACKEND": "django_jinja.backend.Jinja2",
        "APP_DIRS": True,
        "OPTIONS": {
            "match_extension": ".jinja",
            "context_processors": _CONTEXT_PROCESSORS,
            "newstyle_gettext": True,
            "environment": "shuup.xtheme.engine.XthemeEnvironment",
        },
        "NAME": "jinja2",
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": _CONTEXT_PROCESSORS, "debug": DEBUG},
    },
]

SHUUP_PRICING_MODULE = "customer_group_pricing"
SHUUP_TELEMETRY_ENABLED = False
SHUUP_ERROR_PAGE_HANDLERS_SPEC = [
    "shuup.admin.error_handlers:AdminPageErrorHandler",
    "shuup.front.error_handlers:FrontPageErrorHandler",
]
# run.py marks the wizard done for the demo shop: it has what the wizard would ask for.
SHUUP_SETUP_WIZARD_PANE_SPEC = [
    "shuup.admin.modules.shops.views:ShopWizardPane",
    "shuup.admin.modules.service_providers.views.PaymentWizardPane",
    "shuup.admin.modules.service_providers.views.CarrierWizardPane",
    "shuup.xtheme.admin_module.views.ThemeWizardPane",
]

SHOOP_MAILCHIMP = {
    "API_BASE_URL": os.environ.get("SHOOP_MAILCHIMP_DEMO_API_BASE_URL"),
    # No web request waits for Mailchimp: changes are recorded with the transaction, and the
    # `mailchimp_sync --loop` process run.py starts delivers them. (benchmarks/request_time.py
    # also measures the server with its own drainer thread: SHOOP_MAILCHIMP_DEMO_DELIVERY=background.)
    "DELIVERY": os.environ.get("SHOOP_MAILCHIMP_DEMO_DELIVERY") or "worker",
    "WEBHOOK_BASE_URL": os.environ.get("SHOOP_MAILCHIMP_DEMO_WEBHOOK_BASE_URL"),
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
