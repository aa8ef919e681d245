"""Found by independent review pg59 (issue 19) of d769789, F2 (open, a strict expected failure; consent, PostgreSQL
only): the fix of pg58 F4 keeps the withdrawal a batch learnt for another shop's locked row only in the worker's memory.
``sync/state.py: _update_unlocked(skipped_after_commit=True)`` registers a ``transaction.on_commit`` callback
(``_update_each``) for the rows SKIP LOCKED passed over; in ``sync/bulk.py: apply_results`` that is the per-row close
transaction (``_after_close`` -> ``contact.after_close`` -> ``withdraw_consent`` ->
``member_events.record_withdrawal(worker=True)`` -> ``state.requeue``). The close and the consent's withdrawal commit;
the other shop's row is queued only afterwards, by the callback, which first *waits for that row's lock* (as long as the
shop transaction holding it lasts). A worker that dies in that window (a deploy's restart, a Celery hard time limit, the
OOM killer: SIGKILL) loses it for good: the row of shop A is closed synced, its token gone, so no later claim or batch
read retries it; the contact no longer consents, so nothing queues shop B's row again, and B's audience keeps the person
subscribed. (pg58 F5 is the same loss in the one-by-one drainer between two statements; here the window is a lock wait
of unbounded length, created by the F4 fix.)

Harm: as pg58 F4: Ann consented, subscribed in shops A's and B's audiences; she unsubscribes from A's (its webhook
lost); a burst in A goes through a batch, which learns it and withdraws her consent in the shop while a transaction of
shop B holds her row there (a checkout that then fails). The worker is killed while it waits for that row. Shop B's
audience keeps mailing Ann.

Steps (PostgreSQL): pg58 F4's (eight consenting people synced in both shops, Ann unsubscribed by hand in A's audience,
A's contacts queued again as a burst, B's row of Ann held by another connection, given up after 5 s), with A's batch
submitted and read in a forked worker that is SIGKILLed as the after-commit callback is called for B's row (the wait
itself is where a real kill lands). Then the batch's take and every lease and backoff expire, both shops drained.

Control (``control-not-killed``, passes): the same worker not killed: its callback waits for B's row and queues it; B's
audience unsubscribes Ann. Expected in both: Ann's member in B's audience unsubscribed."""
import inspect
import threading

import pytest
from django.db import connection
from shuup.core.models import Contact

from shoop_mailchimp.models import MailchimpBatch, SyncKind, SyncState
from shoop_mailchimp.sync import bulk, state
from shoop_mailchimp.sync.rounds import run_due_work
from tests.helpers import make_all_due, new_person
from tests.services.pg58.helpers import RowHeld, in_a_worker_killed_at, run_inner_on_postgresql
from tests.sync.conftest import burst_settings  # noqa: F401

#: Review pg59 F2 (a strict expected failure until fixed).
OPEN = pytest.mark.xfail(strict=True, reason=(
    "pg59 F2, open: the requeue for another shop after a commit is lost with its worker"))


@pytest.mark.services
@pytest.mark.timeout(600)
def test_batch_withdrawal_for_another_shop_lost_with_its_worker_on_postgresql(postgres_port):
    run_inner_on_postgresql(__file__, postgres_port, expected_passed=1, expected_xfailed=1)




def _rounds(shop_ids, count=3):
    for _round in range(count):
        make_all_due()
        MailchimpBatch.objects.update(taken_until=None)
        run_due_work()
        for shop_id in shop_ids:
            assert bulk.resume_batches(shop_id, poll_interval=0.02, timeout=60) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("killed", [False, pytest.param(True, marks=OPEN)],
                         ids=["control-not-killed", "killed-waiting-for-b-row"])
def test_a_withdrawal_a_batch_learns_survives_its_worker(burst_settings, shop_b,  # noqa: F811
                                                         mailchimp_account, killed):
    if connection.vendor != "postgresql":
        pytest.skip("run on PostgreSQL by the services test above")
    emulator, api_key, list_a = mailchimp_account
    shop, list_b = shop_b
    shop_a = burst_settings.shop_id
    people = [new_person(email="ann%d.pg59f2.%s@fastmail.com" % (number, killed)) for number in range(8)]
    _rounds((shop_a, shop.pk), count=2)
    ann = people[0]
    assert emulator.get_member(api_key, list_a, ann.email)["status"] == "subscribed", "setup"
    assert emulator.get_member(api_key, list_b, ann.email)["status"] == "subscribed", "setup"
    emulator.edit_member_by_hand(api_key, list_a, ann.email, status="unsubscribed")
    assert state.requeue_keeping_member(shop_a, SyncKind.CONTACT) >= 8
    row_b_id = SyncState.objects.get(shop_id=shop.pk, kind=SyncKind.CONTACT, object_id=ann.pk).pk
    holder = RowHeld(shop.pk, ann.pk)
    holder.start()
    assert holder.locked.wait(30)
    threading.Timer(5, holder.release.set).start()
    batches = MailchimpBatch.objects.filter(shop_id=shop_a).count()

    def run():
        run_due_work(shop_id=shop_a)
        bulk.resume_batches(shop_a, poll_interval=0.02, timeout=60)

    def after_commit_for_b(rows, row_ids, changes):
        return row_b_id in row_ids and any(
            frame.function == "run_and_clear_commit_hooks" for frame in inspect.stack())

    try:
        died = in_a_worker_killed_at(run, state, "_update_each", after_commit_for_b if killed else None)
    finally:
        holder.release.set()
        holder.join(30)
    assert died == killed, "setup: the worker was%s killed" % ("" if died else " not")
    connection.close()
    assert MailchimpBatch.objects.filter(shop_id=shop_a).count() > batches, "setup: sent in a batch"
    assert Contact.objects.get(pk=ann.pk).marketing_permission is False, "setup: the batch withdrew the consent"
    _rounds((shop_a, shop.pk))
    row_b = SyncState.objects.get(pk=row_b_id)
    assert emulator.get_member(api_key, list_b, ann.email)["status"] == "unsubscribed", (
        "Ann's consent was withdrawn in the shop; shop B's audience still mails her (B's row: %s, opt_in %s)" % (
            row_b.status, row_b.opt_in))
