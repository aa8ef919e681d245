"""How recorded changes get delivered, by ``SHOOP_MAILCHIMP['DELIVERY']``.

- ``on_commit``: right after the transaction commits, in one background thread per process (or
  inline when ``ON_COMMIT_IN_THREAD`` is off), with the short ``ON_COMMIT_TIMEOUT``. Whatever
  fails stays queued for the next drain.
- ``worker``: nothing here; ``manage.py mailchimp_sync --loop`` drains the queue.
- ``celery``: a Celery task per shop, enqueued after commit by a publishing thread, so that a
  request never waits on the broker; commits that come faster than it publishes share one task.
"""
import atexit
import logging
import threading
import time
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
    """Block until the on-commit thread and the task publisher are idle (tests, the demo, commands)."""
    with _executor_lock:
        futures = list(_futures)
    for future in futures:
        future.result(timeout=timeout)
    _publisher.wait_idle(timeout)


#: Seconds a process about to exit waits for its last tasks to be published.
EXIT_PUBLISH_TIMEOUT = 10
#: Seconds the publisher lets commits gather before publishing: a burst of saves costs a few tasks,
#: not one each, and its publishing does not compete with the saves for the interpreter.
PUBLISH_GATHER_SECONDS = 0.1


class TaskPublisher:
    """Publishes ``drain_shop`` tasks from a daemon thread, one per shop for all the commits that
    asked since its last round.

    Each task drains everything due for its shop, so one published after a commit covers that
    commit. Shop ids not yet published when the process dies are not lost: their rows are in the
    database, and the beat schedule's ``drain_all`` finds them within a minute.
    """

    def __init__(self):
        self._condition = threading.Condition()
        self._waiting = set()
        self._publishing = 0
        self._thread = None
        self._app = None

    def request(self, shop_id):
        import celery

        # Celery's "current app" is per thread: the publishing thread would only see Celery's default.
        app = celery.current_app._get_current_object()
        with self._condition:
            self._app = app
            self._waiting.add(shop_id)
            if self._thread is None or not self._thread.is_alive():  # also after a fork
                if self._thread is None:
                    atexit.register(self._publish_before_exit)
                self._thread = threading.Thread(target=self._run, name="shoop-mailchimp-tasks", daemon=True)
                self._thread.start()
            self._condition.notify_all()

    def _publish_before_exit(self):
        """A command or script that records changes and exits still gets its tasks published."""
        try:
            self.wait_idle(EXIT_PUBLISH_TIMEOUT)
        except TimeoutError:
            logger.warning("Exiting with Mailchimp delivery tasks unpublished; the beat's drain_all will find the rows")

    def wait_idle(self, timeout):
        with self._condition:
            if not self._condition.wait_for(lambda: not self._waiting and not self._publishing, timeout):
                raise TimeoutError("Mailchimp delivery tasks still unpublished after %s s" % timeout)

    def _run(self):
        from shoop_mailchimp.sync.tasks import drain_shop

        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._waiting)
            time.sleep(PUBLISH_GATHER_SECONDS)
            with self._condition:
                shop_ids, self._waiting = sorted(self._waiting), set()
                self._publishing = len(shop_ids)
                app = self._app
            for shop_id in shop_ids:
                try:
                    app.send_task(drain_shop.name, args=[shop_id])
                except Exception:
                    # The broker is down: the rows stay pending and the beat schedule's drain picks them up.
                    logger.exception("Could not enqueue the Mailchimp delivery task for shop %s", shop_id)
            with self._condition:
                self._publishing = 0
                self._condition.notify_all()


_publisher = TaskPublisher()


def _enqueue_celery(shop_id):
    _publisher.request(shop_id)
