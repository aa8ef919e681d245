"""System checks for settings mistakes that would otherwise surface as failed deliveries.

The stored API keys are checked by a ``database`` check: ``manage.py check --tag database``
(``check --database default`` from Django 3.1) and ``migrate`` run it.
"""
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, transaction
from django.utils.module_loading import import_string

from shoop_mailchimp import encryption
from shoop_mailchimp.conf import DEFAULTS, DELIVERY_MODES, SETTING_NAME, get_setting
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.models.configuration import held_configuration_ids

ENCRYPTION_KEYS_HINT = (
    "For example %s = {'ENCRYPTION_KEYS': [os.environ['MAILCHIMP_ENCRYPTION_KEY']]}; see docs/security.rst."
    % SETTING_NAME
)


@register()
def check_settings(app_configs=None, **kwargs):
    problems = []
    configured = getattr(settings, SETTING_NAME, {})
    if not isinstance(configured, dict):
        return [Error("%s must be a dict." % SETTING_NAME, id="shoop_mailchimp.E001")]
    unknown = sorted(set(configured) - set(DEFAULTS))
    if unknown:
        problems.append(Warning(
            "%s has unknown keys: %s." % (SETTING_NAME, ", ".join(unknown)),
            hint="Known keys: %s (a typo is silently ignored otherwise)." % ", ".join(sorted(DEFAULTS)),
            id="shoop_mailchimp.W003",
        ))
    mode = get_setting("DELIVERY")
    if mode not in DELIVERY_MODES:
        problems.append(Error(
            "%s['DELIVERY'] is %r." % (SETTING_NAME, mode),
            hint="Use one of: %s." % ", ".join(DELIVERY_MODES),
            id="shoop_mailchimp.E002",
        ))
    if mode == "celery":
        try:
            import celery  # noqa: F401
        except ImportError:
            problems.append(Error(
                "%s['DELIVERY'] is 'celery' but Celery is not installed." % SETTING_NAME,
                hint="pip install shoop-mailchimp[celery]",
                id="shoop_mailchimp.E003",
            ))
    timeout = get_setting("TIMEOUT")
    if not timeout:
        problems.append(Error(
            "%s['TIMEOUT'] must be set: without it a call to Mailchimp can wait forever." % SETTING_NAME,
            id="shoop_mailchimp.E004",
        ))
    interval = get_setting("RECONCILE_INTERVAL")
    if interval is not None and (isinstance(interval, bool) or not isinstance(interval, (int, float))
                                 or interval < 0):
        problems.append(Error(
            "%s['RECONCILE_INTERVAL'] is %r." % (SETTING_NAME, interval),
            hint="Seconds between two reconciliations with Mailchimp (3600 by default), or None or 0 for none.",
            id="shoop_mailchimp.E007",
        ))
    threshold = get_setting("BURST_THRESHOLD")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0):
        problems.append(Error(
            "%s['BURST_THRESHOLD'] is %r." % (SETTING_NAME, threshold),
            hint="Due contacts of one shop from which they go through batches (1000 by default), or None or 0 "
                 "to always send one by one.",
            id="shoop_mailchimp.E008",
        ))
    # shoop_mailchimp.E005 (MIRAGE_SECRET_KEY) is retired: only migration 0005 reads it now.
    try:
        encryption.configured_secrets()
    except ImproperlyConfigured as error:
        problems.append(Error(str(error), hint=ENCRYPTION_KEYS_HINT, id="shoop_mailchimp.E006"))
    request_seconds = sum(timeout) if isinstance(timeout, (tuple, list)) else float(timeout or 0)
    if request_seconds and get_setting("LEASE_SECONDS") < 3 * request_seconds:
        problems.append(Warning(
            "%s['LEASE_SECONDS'] (%s) is less than three times a request's TIMEOUT (%s s)." % (
                SETTING_NAME, get_setting("LEASE_SECONDS"), request_seconds),
            hint="A worker renews its lease every third of LEASE_SECONDS; one slow request could outlive it, "
                 "and another worker send the same rows.",
            id="shoop_mailchimp.W005",
        ))
    base_url = get_setting("API_BASE_URL")
    if base_url and not base_url.rstrip("/").endswith("/3.0"):
        problems.append(Warning(
            "%s['API_BASE_URL'] (%r) does not end in /3.0/." % (SETTING_NAME, base_url),
            hint="Mailchimp's API root looks like https://us21.api.mailchimp.com/3.0/.",
            id="shoop_mailchimp.W001",
        ))
    return problems


#: Caches that keep nothing: the storefront's rate limits and its double-click lock count in the default cache.
FORGETFUL_CACHES = ("django.core.cache.backends.dummy.DummyCache",)


@register()
def check_storefront_cache(app_configs=None, **kwargs):
    backend = (getattr(settings, "CACHES", {}).get("default") or {}).get("BACKEND", "")
    if backend in FORGETFUL_CACHES:
        return [Warning(
            "The default cache (%s) keeps nothing: the newsletter block's rate limits per address and per IP, "
            "and its double-click lock, do nothing." % backend,
            hint="Use a cache shared by every web process (Redis, Memcached, or the database cache).",
            id="shoop_mailchimp.W006",
        )]
    return []


ATTRIBUTION_MIDDLEWARE = "shoop_mailchimp.storefront.attribution.CampaignAttributionMiddleware"
#: What the attribution middleware must come after: the session it remembers the campaign in, and Shuup's front
#: middleware, whose basket it writes the campaign into before Shuup saves it.
ATTRIBUTION_NEEDS = (
    ("django.contrib.sessions.middleware.SessionMiddleware", "the visit's campaign is not remembered"),
    ("shuup.front.middleware.ShuupFrontMiddleware", "carts never name their campaign"),
)


def _middleware_index(middleware, dotted_path):
    """The position of a middleware class (or a subclass of it) in MIDDLEWARE, or None."""
    try:
        wanted = import_string(dotted_path)
    except ImportError:
        return None
    for index, entry in enumerate(middleware):
        try:
            found = import_string(entry) if isinstance(entry, str) else entry
        except ImportError:
            continue
        if isinstance(found, type) and issubclass(found, wanted):
            return index
    return None


@register()
def check_attribution_middleware(app_configs=None, **kwargs):
    """The campaign attribution middleware placed where it silently does nothing (docs/carts.rst)."""
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    position = _middleware_index(middleware, ATTRIBUTION_MIDDLEWARE)
    if position is None:
        return []
    problems = []
    for needed, otherwise in ATTRIBUTION_NEEDS:
        needed_position = _middleware_index(middleware, needed)
        if needed_position is not None and needed_position > position:
            problems.append(Warning(
                "%s comes before %s in MIDDLEWARE: %s." % (ATTRIBUTION_MIDDLEWARE, needed, otherwise),
                hint="Put it after %s (last is fine); see docs/carts.rst." % needed,
                id="shoop_mailchimp.W007",
            ))
    return problems


@register()
def check_storefront_request_middleware(app_configs=None, **kwargs):
    """The middleware that tells a shopper's storefront request from the admin's missing: a consent a shopper gives on
    Shuup's own Customer Information page is then taken for the staff's (docs/consent.rst)."""
    if _middleware_index(list(getattr(settings, "MIDDLEWARE", None) or []), ATTRIBUTION_MIDDLEWARE) is not None:
        return []
    return [Warning(
        "%s is not in MIDDLEWARE: a consent a shopper gives on Shuup's own Customer Information (or Company "
        "Information) page is sent as the staff's, subscribing an address nobody proved theirs without "
        "confirmation, in every shop; and orders and carts name no campaign." % ATTRIBUTION_MIDDLEWARE,
        hint="Add it to MIDDLEWARE (last is fine); see docs/consent.rst.",
        id="shoop_mailchimp.W008",
    )]


@register(Tags.database)
def check_stored_api_keys(app_configs=None, **kwargs):
    """Stored API keys that the configured ENCRYPTION_KEYS cannot read, or that an older key wrote."""
    try:
        encryption.configured_secrets()
        with transaction.atomic():
            stored = list(
                MailchimpConfiguration.objects.exclude(encrypted_api_key="").values_list("shop_id", "encrypted_api_key")
            )
    except (ImproperlyConfigured, DatabaseError):
        return []  # E006 tells the first; `migrate` runs this check before creating the column
    unreadable, older = [], []
    for shop_id, token in stored:
        try:
            encryption.decrypt(token)
        except encryption.UndecryptableValue:
            unreadable.append(shop_id)
            continue
        if not encryption.is_encrypted_with_newest_key(token):
            older.append(shop_id)
    problems = []
    if unreadable:
        # A warning, not an error: `migrate` runs this check, and a deploy must not stop on it; the
        # shop's sync pauses with the same advice until the key is readable again.
        problems.append(Warning(
            "The stored API key of shop(s) %s cannot be decrypted with the configured %s['ENCRYPTION_KEYS']."
            % (_ids(unreadable), SETTING_NAME),
            hint="Re-enter the key on the shop's page, or add the secret it was encrypted with back to "
                 "ENCRYPTION_KEYS (SECRET_KEY when ENCRYPTION_KEYS was not set).",
            id="shoop_mailchimp.W004",
        ))
    if older:
        problems.append(Warning(
            "The stored API key of shop(s) %s is encrypted with an older entry of ENCRYPTION_KEYS." % _ids(older),
            hint="Run `manage.py mailchimp_rotate_keys` before removing that entry.",
            id="shoop_mailchimp.W002",
        ))
    return problems


def _ids(shop_ids):
    return ", ".join(str(shop_id) for shop_id in sorted(shop_ids))


@register(Tags.database)
def check_shared_audiences(app_configs=None, **kwargs):
    """Two shops of this installation connected to one audience (a database from before an audience served one
    shop): the later-connected one sends nothing (``MailchimpConfiguration.audience_holder``)."""
    try:
        with transaction.atomic():
            held = held_configuration_ids()
            found = [(config, config.audience_holder()) for config in
                     MailchimpConfiguration.objects.filter(pk__in=held).order_by("shop_id")] if held else []
    except DatabaseError:
        return []  # `migrate` runs this check before the columns exist
    problems = []
    for config, holder in found:
        problems.append(Warning(
            "Shop %s is connected to the Mailchimp audience %s, which shop %s was connected to first: shop %s "
            "sends nothing." % (config.shop_id, config.members_list_id or config.list_id,
                                holder.shop_id if holder else "?", config.shop_id),
            hint="An audience serves one shop (docs/configuration.rst, One audience, one shop): disconnect shop "
                 "%s deleting its store, choose another audience for it and initialize again." % config.shop_id,
            id="shoop_mailchimp.W009",
        ))
    return problems
