"""Found by independent review pg49 (issue 14) of 3a589c5, F1 (fixed): a disconnect while another worker submits a
burst's batch (PostgreSQL, real processes). The worker's save overwrote the disconnect's CANCELLED; now the cancel
takes the batch from the worker holding it (``bulk.cancel_open_batches`` clears ``taken_until``), whose save then
fails, and the worker stops in Mailchimp the batch it had just submitted (``bulk.stop_in_mailchimp``).

Needs PostgreSQL's binaries (``scripts/system-deps`` installs them); skipped otherwise.
"""
import os
import tempfile
import time

import pytest

from tests.helpers import poll_until, wait_for
from tests.services.conftest import postgres_port  # noqa: F401  (the fixture)
from tests.services.processes import new_account, run_module, services_env, start
from tests.services.test_chaos import query

pytestmark = pytest.mark.services
ACTORS = "tests.services.disconnect_actors"


def _batches(port):
    return query(port, "SELECT status, batch_id FROM shoop_mailchimp_mailchimpbatch ORDER BY id")


def _leased_far(port):
    """Contact rows leased for more than an hour (a batch's BATCH_LEASE_SECONDS)."""
    return query(port, "SELECT count(*) FROM shoop_mailchimp_syncstate WHERE kind = 'contact' AND "
                       "lease_until > now() + interval '1 hour'")[0][0]


def _scenario(postgres_port, during_submit):  # noqa: F811
    emulator, api_key, list_id = new_account()
    env = services_env(emulator, api_key, list_id, None, postgres_port, SHOOP_MAILCHIMP_BURST_THRESHOLD="3")
    try:
        run_module(env, "tests.services.setup_shop", "4")  # four new contacts due at once: a burst
        signals = tempfile.mkdtemp()
        disconnecter = start(env, ACTORS, "disconnect", signals if during_submit else "-")
        if during_submit:
            poll_until(lambda: os.path.exists(os.path.join(signals, "ready")), 120, "the disconnect process is ready")
            # The worker's POST /batches is held 4 s (under the client's 5 s read timeout: it succeeds).
            emulator.faults.hang(4, "/batches", method="POST", times=1)
            worker = start(env, "django", "mailchimp_sync")  # one round: the burst's batch, submitted
            wait_for(emulator, lambda: emulator.faults.hangs_begun, "the worker's batch submission being held",
                     timeout=120)
            open(os.path.join(signals, "go"), "w").close()  # the admin disconnects now
            disconnected = disconnecter.communicate(timeout=120)[0].decode()
            disconnected_at = time.time()
            worker.communicate(timeout=120)
        else:
            disconnected = disconnecter.communicate(timeout=120)[0].decode()
            disconnected_at = time.time()
            run_module(env, "django", "mailchimp_sync")  # a worker's round after the disconnect
        time.sleep(1)
    finally:
        emulator.stop()
    after = [request for request in emulator.requests
             if request["time"] > disconnected_at and request["method"] != "GET"]
    cancels = query(postgres_port, "SELECT action, message FROM shoop_mailchimp_mailchimplogentry "
                                   "WHERE action LIKE 'bulk.%%' ORDER BY id")
    return _batches(postgres_port), _leased_far(postgres_port), after, (disconnected, cancels,
                                                                        emulator.batches(api_key))


def test_a_disconnect_while_a_worker_submits_a_burst_batch_is_not_undone(postgres_port):  # noqa: F811
    """Harm (lost update of the batch's state, sending after a disconnect, rows held for a day): the admin
    disconnects the shop (``stop_sending`` + the DISCONNECT job: ``bulk.cancel_open_batches`` marks the open burst
    batch CANCELLED and lapses its rows, "sent again on reconnect") while another worker process is inside
    ``bulk._submit`` for that batch (its ``POST /batches`` under way). The worker then saves the batch through
    ``_save_and_give_back``, which checks only its own take (``taken_until``), not the status it loaded: the
    CANCELLED status is overwritten with SUBMITTED and a Mailchimp batch id the disconnect never stopped (it
    stopped only the ids it knew), and ``state.extend_lease`` leases the rows to the batch again for
    BATCH_LEASE_SECONDS (24 h). The disconnect's cancel is lost: Mailchimp runs the shop's batch after the
    disconnect, and the shop records the batch as open.

    Steps: four new contacts due at once (BURST_THRESHOLD 3); a worker's round (``mailchimp_sync``) hands them to a
    burst batch and submits it; Mailchimp holds that POST 4 s (below the 5 s read timeout); meanwhile another
    process disconnects the shop (store kept); the worker's POST returns.

    Control: the same disconnect with no worker holding the batch: the burst batch is never made or stays
    cancelled, nothing is submitted after the disconnect, no row is leased to a batch
    (``test_control_...`` passes).
    """
    batches, leased, after, disconnected = _scenario(postgres_port, during_submit=True)
    assert all(status == "cancelled" for status, _batch_id in batches), (
        "the disconnect cancelled the batch, the worker's save made it %s again; rows leased for a day: %d; "
        "disconnect, the shop's batch log, Mailchimp's batches: %s" % (batches, leased, disconnected))
    assert leased == 0
    # The batch Mailchimp accepted as the disconnect ran is stopped there too.
    assert any(request["method"] == "DELETE" and "/batches/" in request["path"] for request in after), after


def test_control_a_disconnect_with_no_worker_in_the_batch(postgres_port):  # noqa: F811
    batches, leased, after, disconnected = _scenario(postgres_port, during_submit=False)
    assert all(status == "cancelled" for status, _batch_id in batches), batches
    assert leased == 0 and not [r for r in after if "batches" in r["path"]], (leased, after)
