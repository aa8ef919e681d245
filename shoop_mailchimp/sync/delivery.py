"""How recorded changes get delivered, by ``SHOOP_MAILCHIMP['DELIVERY']``.

- ``on_commit``: right after the transaction commits, in one background thread per process (or
  inline when ``ON_COMMIT_IN_THREAD`` is off), with the short ``ON_COMMIT_TIMEOUT``. Whatever
  fails stays queued for the next drain.
- ``worker``: nothing here; ``manage.py mailchimp_sync --loop`` drains the queue.
- ``celery``: a Celery task per shop, enqueued on commit.
"""
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, connection, transaction

from shoop_mailchimp.conf import get_delivery_mode, get_setting

logger = logging.getLogger(__name__)

_executor = None
_executor_lock = threading.Lock()
_futures = []


def schedule_delivery(shop_id):
    mode = get_delivery_mode()
    if mode == "worker":
        return
    if _already_scheduled(shop_id):
        return
    callback = _enqueue_celery if mode == "celery" else _deliver_after_commit
    transaction.on_commit(_tagged(lambda: callback(shop_id), shop_id))


def _tagged(function, shop_id):
    function.shoop_mailchimp_shop_id = shop_id
    return function


def _already_scheduled(shop_id):
    """One delivery per shop and transaction is enough: it drains everything due."""
    return connection.in_atomic_block and any(
        getattr(function, "shoop_mailchimp_shop_id", None) == shop_id for _, function in connection.run_on_commit
    )


def deliver_in_thread():
    """ON_COMMIT_IN_THREAD, where None means: in a thread, except on SQLite.

    SQLite allows one writer: a delivery thread's writes fail with "database is locked" while a
    request's transaction holds the lock, so there deliveries run inline after commit.
    """
    in_thread = get_setting("ON_COMMIT_IN_THREAD")
    if in_thread is None:
        return connection.vendor != "sqlite"
    return bool(in_thread)


def _deliver_after_commit(shop_id):
    if deliver_in_thread():
        global _executor
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shoop-mailchimp")
            _futures[:] = [future for future in _futures if not future.done()]
            _futures.append(_executor.submit(_drain_in_thread, shop_id))
    else:
        _drain_quietly(shop_id)


def _drain_in_thread(shop_id):
    close_old_connections()
    try:
        _drain_quietly(shop_id)
    finally:
        close_old_connections()


def _drain_quietly(shop_id):
    from shoop_mailchimp.sync.worker import drain

    try:
        drain(shop_id=shop_id, timeout=get_setting("ON_COMMIT_TIMEOUT"), max_rounds=3)
    except Exception:
        # The rows stay queued; the next drain (or worker) delivers them.
        logger.exception("Mailchimp delivery after commit failed for shop %s", shop_id)


def wait_for_background_deliveries(timeout=30):
    """Block until the on-commit thread is idle (tests, the demo and management commands)."""
    with _executor_lock:
        futures = list(_futures)
    for future in futures:
        future.result(timeout=timeout)


def _enqueue_celery(shop_id):
    from shoop_mailchimp.sync.tasks import drain_shop

    try:
        drain_shop.delay(shop_id)
    except Exception:
        # The broker is down: the rows stay pending and the beat schedule's drain picks them up.
        logger.exception("Could not enqueue the Mailchimp delivery task for shop %s", shop_id)
