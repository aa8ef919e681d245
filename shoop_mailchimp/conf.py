"""One lazy accessor for the app's settings, so ``override_settings`` always works.

Everything lives in one dict setting::

    SHOOP_MAILCHIMP = {"DELIVERY": "worker", "TIMEOUT": 10}

A key that is not in :data:`DEFAULTS` is reported by ``manage.py check`` (shoop_mailchimp.W003).
"""
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SETTING_NAME = "SHOOP_MAILCHIMP"

DEFAULTS = {
    # Where the Marketing API lives; None means Mailchimp's own https://<dc>.api.mailchimp.com/3.0/.
    # Tests and the demo aim it at the bundled emulator.
    "API_BASE_URL": None,
    # Seconds for every HTTP call: (connect, read). Mailchimp itself gives up after 120 s.
    "TIMEOUT": (5, 30),
    # Who drains the queue (never a request): "background" (a thread in each web process, woken by
    # commits), "worker" (`manage.py mailchimp_sync --loop`) or "celery" (tasks; beat for retries).
    "DELIVERY": "background",
    # Seconds between the drainer's rounds when nothing wakes it: retries, jobs, batches.
    "POLL_INTERVAL": 15,
    # Transient failures are retried with exponential backoff and jitter, then marked failed.
    "MAX_ATTEMPTS": 8,
    "RETRY_BASE_DELAY": 30,
    "RETRY_MAX_DELAY": 6 * 3600,
    # A claimed row whose worker died becomes claimable again after this many seconds.
    "LEASE_SECONDS": 300,
    # Rows a worker claims at a time, per sending thread (DRAIN_CONCURRENCY).
    "DRAIN_CHUNK": 100,
    # Requests in flight per API key (Mailchimp allows 10).
    "MAX_CONNECTIONS": 10,
    # Contacts the worker sends at once (capped by MAX_CONNECTIONS); 1 sends them one by one.
    "DRAIN_CONCURRENCY": 1,
    # Contacts (or orders, products) per Mailchimp batch in a bulk sync or a burst; each chunk's batch goes out once
    # per phase (a contact's: member reads, member writes, customers), so the request count of a bulk sync is about
    # three per chunk. Mailchimp documents no maximum of operations per batch.
    "BATCH_SIZE": 2000,
    # Due contacts of one shop from which the drainer sends them through batches by itself, not one by one
    # (a group filled, a CSV import). None or 0: never. See docs/performance.rst for how it was chosen.
    "BURST_THRESHOLD": 1000,
    # Seconds between two looks at submitted batches while a bulk sync waits for them.
    "BATCH_POLL_INTERVAL": 5,
    # Rows in a submitted batch are leased to it this long; only a lost batch ever reaches the end.
    "BATCH_LEASE_SECONDS": 24 * 3600,
    # Redis shared by Celery workers: the per-key connection cap and "retry not before" pauses.
    # None keeps the cap per process (a semaphore).
    "REDIS_URL": None,
    "USER_AGENT": "shoop-mailchimp/0.1 (+https://pypi.org/project/shoop-mailchimp/)",
    # Secrets the stored API keys are encrypted with, newest first: the first encrypts, all decrypt.
    # None uses SECRET_KEY alone (rotating SECRET_KEY then needs the old one listed here).
    # See docs/security.rst; `manage.py mailchimp_rotate_keys` re-encrypts with the first.
    "ENCRYPTION_KEYS": None,
    # Public base URL of the shop (e.g. "https://shop.example.com") used to register the webhook.
    "WEBHOOK_BASE_URL": None,
    # Seconds between two checks that the audience still has the shop's webhook.
    "WEBHOOK_CHECK_INTERVAL": 3600,
    # Seconds between two reconciliations of each shop with its audience (reading the members Mailchimp
    # changed: unsubscribes and e-mail changes whose webhook was lost, edits made by hand). None or 0: never.
    "RECONCILE_INTERVAL": 3600,
    # A due row waiting longer than this many seconds makes the status page ask whether a drainer runs.
    "OVERDUE_AFTER": 120,
    # The storefront's newsletter block: (attempts, seconds) allowed per e-mail address and per client IP
    # (REMOTE_ADDR) in a fixed window of Django's cache; an attempt over either limit records nothing.
    "SIGNUP_LIMIT_PER_ADDRESS": (3, 3600),
    "SIGNUP_LIMIT_PER_IP": (10, 3600),
    # Seconds a confirmation link (double opt-in, or a subscription asked for on the newsletter block for a known
    # address) counts as waiting for its owner: after that the account page says it lapsed, and a later signup
    # has Mailchimp mail a fresh one (docs/consent.rst).
    "CONFIRMATION_LIFETIME": 60 * 24 * 3600,
    # Carts (abandoned-cart e-mails, docs/carts.rst): a basket is sent once it has been left alone this many
    # seconds, so a shopper adding ten items makes one send, not ten.
    "CART_QUIET_SECONDS": 60,
    # Seconds a basket stays a cart in Mailchimp after its last change, and a restore link stays valid; after
    # that the cart is deleted in Mailchimp.
    "CART_LIFETIME": 14 * 24 * 3600,
    # Public base URL of the storefront (e.g. "https://shop.example.com") for carts' restore links and the
    # connected site of a shop without a domain (a shop's own domain comes first); None uses WEBHOOK_BASE_URL.
    "STOREFRONT_BASE_URL": None,
    # Seconds the first-party cookie remembers the Mailchimp campaign a visitor came from (mc_cid), so that an
    # order placed on a later visit still earns the campaign its revenue. 0 keeps it for the session only.
    "ATTRIBUTION_COOKIE_AGE": 30 * 24 * 3600,
}

DELIVERY_MODES = ("background", "worker", "celery")


def get_setting(name):
    """Return ``SHOOP_MAILCHIMP[name]``, read at call time, or its default."""
    if name not in DEFAULTS:
        raise KeyError("Unknown %s setting %r" % (SETTING_NAME, name))
    configured = getattr(settings, SETTING_NAME, None) or {}
    if not isinstance(configured, dict):
        raise ImproperlyConfigured("%s must be a dict, not %r" % (SETTING_NAME, type(configured).__name__))
    return configured.get(name, DEFAULTS[name])


def get_delivery_mode():
    mode = get_setting("DELIVERY")
    if mode not in DELIVERY_MODES:
        raise ImproperlyConfigured(
            "%s['DELIVERY'] is %r; set it to one of %s." % (SETTING_NAME, mode, ", ".join(DELIVERY_MODES))
        )
    return mode
