"""When to try a failed delivery again: exponential backoff with full jitter, bounded."""
import random
from datetime import timedelta

from shoop_mailchimp.conf import get_setting


def retry_delay(attempts, rng=random):
    """Seconds to wait after the given number of failed attempts (1 = the first failure)."""
    base = get_setting("RETRY_BASE_DELAY")
    cap = get_setting("RETRY_MAX_DELAY")
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def next_attempt(now, attempts):
    return now + timedelta(seconds=retry_delay(attempts))


def gives_up(attempts, max_attempts=None):
    return attempts >= (max_attempts or get_setting("MAX_ATTEMPTS"))
