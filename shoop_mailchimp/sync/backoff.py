"""When to try a failed delivery again: exponential backoff with full jitter, bounded."""
import random
from datetime import timedelta

from shoop_mailchimp.conf import get_setting

#: Past this many doublings the delay is RETRY_MAX_DELAY whatever the settings (2**62 × any base).
MAX_EXPONENT = 62


def retry_delay(attempts, rng=random):
    """Seconds to wait after the given number of failed attempts (1 = the first failure)."""
    base = get_setting("RETRY_BASE_DELAY")
    cap = get_setting("RETRY_MAX_DELAY")
    # The exponent is bounded: a row that never gives up (``Outcome.persists``) counts attempts past any cap.
    ceiling = min(cap, base * (2 ** min(MAX_EXPONENT, max(0, attempts - 1))))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def next_attempt(now, attempts):
    return now + timedelta(seconds=retry_delay(attempts))


def gives_up(attempts, max_attempts=None):
    return attempts >= (max_attempts or get_setting("MAX_ATTEMPTS"))
