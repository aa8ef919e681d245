"""Who drains the queue, by ``SHOOP_MAILCHIMP['DELIVERY']``. No mode ever sends from a request's thread.

- ``background`` (the default): a daemon thread in each web process. A commit that recorded a change
  wakes it; it also wakes every ``POLL_INTERVAL`` seconds for retries, jobs and batches (sooner
  while batches are open: :func:`rounds.batch_look_gap`), so failed deliveries are retried by themselves. It
  starts with the first request or commit of the process.
- ``worker``: nothing runs in the web process; ``manage.py mailchimp_sync --loop`` (a systemd
  service, a container) does the same rounds.
- ``celery``: a commit publishes a ``drain_shop`` task (from a publishing thread, so that a request
  never waits on the broker); Celery beat's ``run_due_work`` does the periodic rounds.
"""
import atexit
import logging
import threading
import time

from django.db import close_old_connections, transaction

from shoop_mailchimp.conf import get_delivery_mode, get_setting
from shoop_mailchimp.sync.rounds import run_due_work, seconds_to_next_round

logger = logging.getLogger(__name__)


def schedule_delivery(shop_id):
    """After the current transaction commits, make sure its recorded changes are drained soon."""
    mode = get_delivery_mode()
    if mode == "background":
        transaction.on_commit(background_drainer.wake)
    elif mode == "celery":
        transaction.on_commit(lambda: task_publisher.request(shop_id))


def ensure_background_drainer(**kwargs):
    """``request_started`` receiver: a process that serves requests retries by itself, even before its
    first commit."""
    if get_delivery_mode() == "background":
        background_drainer.start()


class BackgroundDrainer:
    """A daemon thread running :func:`~shoop_mailchimp.sync.rounds.run_due_work` when woken, and every
    ``POLL_INTERVAL`` seconds."""

    def __init__(self):
        self._lock = threading.Lock()
        self._wakeup = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread = None
        self._stopping = False

    def start(self):
        with self._lock:
            if self._thread is None or not self._thread.is_alive():  # also after a fork
                self._thread = threading.Thread(target=self._run, name="shoop-mailchimp-drainer", daemon=True)
                self._thread.start()

    def wake(self):
        self.start()
        self._idle.clear()
        self._wakeup.set()

    def stop(self, timeout=30):
        """End the thread after its current round (tests; a process that exits needs nothing)."""
        self._stopping = True
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_idle(self, timeout=30):
        """Block until a wake-up has been served (tests, the demo walk)."""
        if not self._idle.wait(timeout):
            raise TimeoutError("The Mailchimp background drainer is still busy after %s s" % timeout)

    def _run(self):
        wait = get_setting("POLL_INTERVAL")
        while True:
            woken = self._wakeup.wait(wait)
            self._wakeup.clear()
            if self._stopping:
                return
            close_old_connections()
            wait = get_setting("POLL_INTERVAL")
            try:
                run_due_work(woken=woken)
                wait = seconds_to_next_round()
            except Exception:
                # Rows stay queued (their lease runs out): the next round takes them up again.
                logger.exception("A Mailchimp delivery round failed")
            finally:
                close_old_connections()
                if not self._wakeup.is_set():
                    self._idle.set()


background_drainer = BackgroundDrainer()


#: Seconds a process about to exit waits for its last tasks to be published.
EXIT_PUBLISH_TIMEOUT = 10
#: Seconds the publisher lets commits gather before publishing: a burst of saves costs a few tasks,
#: not one each, and its publishing does not compete with the saves for the interpreter.
PUBLISH_GATHER_SECONDS = 0.1
DRAIN_SHOP_TASK = "shoop_mailchimp.sync.tasks.drain_shop"


class TaskPublisher:
    """Publishes ``drain_shop`` tasks from a daemon thread, one per shop for all the commits that
    asked since its last round.

    Each task drains everything due for its shop, so one published after a commit covers that
    commit. Shop ids not yet published when the process dies are not lost: their rows are in the
    database, and the beat schedule's round finds them within a minute.
    """

    def __init__(self):
        self._condition = threading.Condition()
        self._waiting = set()
        self._publishing = 0
        self._thread = None
        self._app = None

    def request(self, shop_id):
        # Celery's "current app" is per thread: the publishing thread would only see Celery's default,
        # so the app is resolved here, in the committing thread. (Celery is an optional dependency.)
        from shoop_mailchimp.sync.tasks import drain_shop

        app = drain_shop.app
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
            logger.warning("Exiting with Mailchimp delivery tasks unpublished; the beat's round will find the rows")

    def wait_idle(self, timeout):
        with self._condition:
            if not self._condition.wait_for(lambda: not self._waiting and not self._publishing, timeout):
                raise TimeoutError("Mailchimp delivery tasks still unpublished after %s s" % timeout)

    def _run(self):
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
                    app.send_task(DRAIN_SHOP_TASK, args=[shop_id])
                except Exception:
                    # The broker is down: the rows stay pending and the beat schedule's round picks them up.
                    logger.exception("Could not enqueue the Mailchimp delivery task for shop %s", shop_id)
            with self._condition:
                self._publishing = 0
                self._condition.notify_all()


task_publisher = TaskPublisher()
