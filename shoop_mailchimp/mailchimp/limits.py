"""Mailchimp allows 10 simultaneous connections per API key; stay under it.

Within one process a semaphore per key is enough; Celery deployments use the Redis-backed
limiter (see :mod:`shoop_mailchimp.sync.celery`), which replaces :data:`slot_factory`.
"""
import contextlib
import threading

from shoop_mailchimp.conf import get_setting

_lock = threading.Lock()
_semaphores = {}


def _local_slot(key_id):
    with _lock:
        semaphore = _semaphores.get(key_id)
        if semaphore is None:
            semaphore = _semaphores[key_id] = threading.BoundedSemaphore(get_setting("MAX_CONNECTIONS"))
    return semaphore


@contextlib.contextmanager
def connection_slot(key_id):
    semaphore = _local_slot(key_id)
    semaphore.acquire()
    try:
        yield
    finally:
        semaphore.release()
