"""Mailchimp allows 10 simultaneous connections per API key; stay under it.

Within one process a semaphore per key is enough. With ``SHOOP_MAILCHIMP["REDIS_URL"]`` set (Celery
deployments) the cap holds across every process: a slot is a member of a Redis sorted set scored
with its expiry, so a worker killed mid-request frees its slot once the request would have timed out.
The same Redis carries per-shop "retry not before" throttles after Mailchimp throttled us, so that
every worker waits; without Redis the throttle holds within this process. (A throttle ends by itself;
a shop *paused* by an account problem waits for its owner: ``MailchimpConfiguration.paused_reason``.)

Redis going away stops nothing for good: a slot that cannot be taken raises
:class:`LimiterUnavailable` (the drainer gives its rows back for later), and a throttle falls back to
this process.
"""
import contextlib
import threading
import time
import uuid

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.mailchimp.errors import MailchimpError

_lock = threading.Lock()
_semaphores = {}
_redis_clients = {}
#: {shop id: time.time() when sending may resume}, used when REDIS_URL is not set.
_local_throttles = {}

#: Seconds a slot outlives the request's own (connect + read) timeout.
SLOT_MARGIN = 5
SLOT_WAIT_STEP = 0.01
KEY_PREFIX = "shoop_mailchimp:"

# Drop expired slots, then take one if fewer than the cap remain. KEYS[1]: the set;
# ARGV: now, expiry, cap, token.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
    redis.call('EXPIRE', KEYS[1], 3600)
    return 1
end
return 0
"""


class LimiterUnavailable(MailchimpError):
    """The shared connection cap (Redis) cannot be reached: nothing was sent, nothing is wrong with it."""

    transient = True


def _local_slot(key_id):
    with _lock:
        semaphore = _semaphores.get(key_id)
        if semaphore is None:
            semaphore = _semaphores[key_id] = threading.BoundedSemaphore(get_setting("MAX_CONNECTIONS"))
    return semaphore


def redis_client():
    """The shared Redis client, or None when ``REDIS_URL`` is not set."""
    url = get_setting("REDIS_URL")
    if not url:
        return None
    with _lock:
        client = _redis_clients.get(url)
        if client is None:
            import redis

            client = _redis_clients[url] = redis.Redis.from_url(url, socket_timeout=5)
    return client


@contextlib.contextmanager
def _redis_slot(client, key_id):
    import redis

    key = KEY_PREFIX + "slots:" + key_id
    token = uuid.uuid4().hex
    cap = get_setting("MAX_CONNECTIONS")
    timeout = get_setting("TIMEOUT")
    lifetime = (sum(timeout) if isinstance(timeout, (tuple, list)) else float(timeout or 120)) + SLOT_MARGIN
    try:
        acquire = client.register_script(_ACQUIRE)
        while True:
            now = time.time()
            if acquire(keys=[key], args=[now, now + lifetime, cap, token]):
                break
            time.sleep(SLOT_WAIT_STEP)
    except redis.RedisError as error:
        raise LimiterUnavailable("The shared connection limit (REDIS_URL) cannot be reached (%s); sending "
                                 "waits for it." % error.__class__.__name__) from error
    try:
        yield
    finally:
        try:
            client.zrem(key, token)
        except redis.RedisError:
            pass  # the slot expires by itself


@contextlib.contextmanager
def connection_slot(key_id):
    client = redis_client()
    if client is not None:
        with _redis_slot(client, key_id):
            yield
        return
    semaphore = _local_slot(key_id)
    semaphore.acquire()
    try:
        yield
    finally:
        semaphore.release()


def throttle_shop(shop_id, seconds):
    """Tell every worker (sharing Redis, else in this process) to leave this shop alone for ``seconds``."""
    if seconds <= 0:
        return
    resume_at = time.time() + seconds
    with _lock:  # also here: the throttle holds in this process when Redis is unreachable
        _local_throttles[shop_id] = max(resume_at, _local_throttles.get(shop_id, 0))
    client = redis_client()
    if client is not None:
        import redis

        try:
            client.set(KEY_PREFIX + "throttled:%s" % shop_id, str(resume_at), ex=max(1, int(seconds + 0.999)))
        except redis.RedisError:
            pass


def shop_throttled_for(shop_id):
    """Seconds until the shop may be sent to again (0 when not throttled)."""
    with _lock:
        resume_at = _local_throttles.get(shop_id, 0)
    client = redis_client()
    if client is not None:
        import redis

        try:
            value = client.get(KEY_PREFIX + "throttled:%s" % shop_id)
        except redis.RedisError:
            value = None
        resume_at = max(resume_at, float(value) if value else 0)
    return max(0.0, resume_at - time.time())
