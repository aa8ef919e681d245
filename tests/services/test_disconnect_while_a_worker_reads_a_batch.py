"""Found by independent review pg49 (issue 14) of 3a589c5, F1, second path (fixed): a disconnect while another worker
reads a burst batch's results (PostgreSQL, real processes). The worker's save of the next phase overwrote the
disconnect's CANCELLED and posted that phase after the disconnect; now the cancel takes the batch from the worker
holding it (``bulk.cancel_open_batches`` clears ``taken_until``).

Needs PostgreSQL's binaries (``scripts/system-deps`` installs them); skipped otherwise.
"""
import os
import tempfile
import time

import pytest

from tests.helpers import poll_until, wait_for
from tests.services.conftest import postgres_port  # noqa: F401  (the fixture)
from tests.services.processes import new_account, run_module, services_env, start, stop
from tests.services.test_chaos import query

pytestmark = pytest.mark.services
ACTORS = "tests.services.disconnect_actors"
WORKER = ("django", "mailchimp_sync", "--loop", "--interval", "0.2")


def _scenario(postgres_port, during_results):  # noqa: F811
    emulator, api_key, list_id = new_account()
    env = services_env(emulator, api_key, list_id, None, postgres_port, SHOOP_MAILCHIMP_BURST_THRESHOLD="3")
    workers = []
    try:
        run_module(env, "tests.services.setup_shop", "4")  # four new contacts due at once: a burst
        signals = tempfile.mkdtemp()
        disconnecter = start(env, ACTORS, "disconnect", signals)
        poll_until(lambda: os.path.exists(os.path.join(signals, "ready")), 120, "the disconnect process is ready")
        if during_results:
            # The worker's first download of a result archive takes 4 s (a slow link to the archive's storage).
            workers.append(start(env, ACTORS, "slow-results-worker", signals, "40"))
            poll_until(lambda: os.path.exists(os.path.join(signals, "reading")), 120,
                       "the worker reading the batch's results")
        else:
            workers.append(start(env, *WORKER))
            wait_for(emulator, lambda: emulator.batches(api_key), "the burst's batch", timeout=120)
            time.sleep(1)
        open(os.path.join(signals, "go"), "w").close()  # the admin disconnects now
        disconnected = disconnecter.communicate(timeout=120)[0].decode()
        disconnected_at = time.time()
        time.sleep(8)  # the hang ends; the worker goes on
    finally:
        stop(workers)
        emulator.stop()
    made_after = [batch for batch in emulator.batches(api_key)
                  if time.mktime(time.strptime(batch["submitted_at"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
                  > disconnected_at]
    posts_after = [r for r in emulator.requests if r["time"] > disconnected_at and r["method"] == "POST"
                   and r["path"].rstrip("/").endswith("batches")]
    shop_batches = query(postgres_port, "SELECT status, phase, batch_id FROM shoop_mailchimp_mailchimpbatch")
    log = query(postgres_port, "SELECT action, message FROM shoop_mailchimp_mailchimplogentry "
                               "WHERE action LIKE 'bulk.%%' ORDER BY id")
    return shop_batches, posts_after, made_after, (disconnected, log)


def test_a_disconnect_while_a_worker_reads_a_batch_is_not_undone(postgres_port):  # noqa: F811
    """Harm (sending after a disconnect, lost update of the batch's state): the admin disconnects (the DISCONNECT job:
    ``bulk.cancel_open_batches`` marks the burst batch CANCELLED and lapses its rows) while another worker process is
    in ``bulk._finish`` reading the batch's first (reads) phase (its download of the result archive takes 4 s). The
    worker's ``_advance`` saves the batch through ``_save_and_give_back``, which checks only its take
    (``taken_until``): CANCELLED becomes PREPARING (phase 2), and
    ``check_batches`` submits that phase at once (``_take`` now finds it PREPARING): a new ``POST /batches`` with the
    contacts' member writes (their consent included) reaches Mailchimp after the shop was disconnected, a batch the
    disconnect never knew to stop, and the rows are leased to it for a day.

    Steps: four new contacts due at once (BURST_THRESHOLD 3); a ``mailchimp_sync --loop`` worker hands them to a
    burst batch and submits its reads phase; the download of its results takes 4 s; meanwhile another
    process disconnects the shop (store kept); the download returns.

    Control: the same disconnect when no worker holds the batch (its reads phase submitted, not being read): the
    batch stays cancelled and no batch is posted after the disconnect (``test_control_...`` passes).
    """
    shop_batches, posts_after, made_after, told = _scenario(postgres_port, during_results=True)
    assert not posts_after and all(status == "cancelled" for status, _phase, _id in shop_batches), (
        "batches posted after the disconnect: %d; the shop's batches: %s; disconnect and batch log: %s" % (
            len(posts_after), shop_batches, told))


def test_control_a_disconnect_with_no_worker_reading_the_batch(postgres_port):  # noqa: F811
    shop_batches, posts_after, made_after, told = _scenario(postgres_port, during_results=False)
    assert not posts_after and all(status == "cancelled" for status, _phase, _id in shop_batches), (
        len(posts_after), shop_batches, told)
