"""Found by independent review pg58 (issue 19) of dcc101d, F4 (fixed: inside a transaction, the rows SKIP LOCKED passed
over are updated once it commits; consent, PostgreSQL only): a batch that finds a person unsubscribed withdraws the
shop's consent and must send the withdrawal to the other shops' audiences
(``member_events.record_withdrawal(worker=True)`` → ``state.requeue``). In ``sync/bulk.py: apply_results`` that runs
inside the per-row close transaction (``with transaction.atomic(): ... _after_close`` → ``contact.after_close`` →
``withdraw_consent``), and ``state._update_unlocked`` inside a transaction leaves the rows another transaction holds as
they are ("the caller says what becomes of them": nobody does). On PostgreSQL (SKIP LOCKED) the other shop's row, locked
at that moment, is silently never queued: it stays synced with the consent given, and that audience keeps the person
subscribed. On SQLite the same update waits and queues it. The one-by-one drainer calls ``after_close`` outside a
transaction, where the skipped rows are updated one by one (waiting): only the batch path loses them.

Harm: Ann consented; two shops sharing their contacts sent her to their audiences (A and B), subscribed. Ann
unsubscribes from shop A's audience (its webhook lost). A burst in shop A goes through a batch, which finds her
unsubscribed and withdraws her consent in the shop. At that moment a transaction of shop B holds Ann's row there (a
checkout in shop B that recorded its customer and then failed and rolled back; a reconciliation page of B's audience; a
worker's claim): shop B never sends the withdrawal, and B's audience keeps mailing Ann although she withdrew and the
shop's contact says so.

Steps (PostgreSQL, a real second connection holds B's row in a transaction while shop A's batch is read, then rolls
back): eight consenting people synced in both shops; Ann unsubscribed by hand in A's audience; shop A's eight contacts
queued to be written again (``state.requeue_keeping_member``, as after its store was created again: a burst, batches);
the batch is submitted and read; every lease and backoff expired, both shops drained. Expected (the controls: nothing
holds B's row; or it is held the same way while the one-by-one drainer learns the unsubscribe): Ann's member in B's
audience unsubscribed. Found (B's row held while the batch is read): subscribed, and B's row synced with opt_in True
while Ann's contact no longer consents."""
import threading

import pytest
from django.db import connection
from shuup.core.models import Contact

from shoop_mailchimp.models import MailchimpBatch, SyncKind, SyncState
from shoop_mailchimp.sync import bulk, state
from shoop_mailchimp.sync.rounds import run_due_work
from tests.helpers import make_all_due, new_person
from tests.services.pg58.helpers import RowHeld, run_inner_on_postgresql
from tests.sync.conftest import burst_settings  # noqa: F401


@pytest.mark.services
@pytest.mark.timeout(600)
def test_batch_withdrawal_skips_another_shops_locked_row_on_postgresql(postgres_port):
    run_inner_on_postgresql(__file__, postgres_port, expected_passed=3)




@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("held, one_by_one", [(False, False), (True, True), (True, False)],
                         ids=["control-nothing-holds-b", "control-b-row-held-one-by-one", "b-row-held-batch"])
def test_a_withdrawal_a_batch_learns_reaches_the_other_shops_audience(burst_settings, shop_b,  # noqa: F811
                                                                       mailchimp_account, held, one_by_one,
                                                                       settings):
    if connection.vendor != "postgresql":
        pytest.skip("run on PostgreSQL by the services test above")
    emulator, api_key, list_a = mailchimp_account
    shop, list_b = shop_b
    people = [new_person(email="ann%d.pg58.%s@fastmail.com" % (number, held)) for number in range(8)]
    for _round in range(2):
        make_all_due()
        run_due_work()
        for shop_id in (burst_settings.shop_id, shop.pk):
            assert bulk.resume_batches(shop_id, poll_interval=0.02, timeout=60) == 0
    ann = people[0]
    assert emulator.get_member(api_key, list_a, ann.email) and emulator.get_member(api_key, list_b, ann.email), (
        "setup", list(SyncState.objects.filter(object_id=ann.pk).values_list("shop_id", "kind", "status")))
    assert emulator.get_member(api_key, list_a, ann.email)["status"] == "subscribed", "setup"
    assert emulator.get_member(api_key, list_b, ann.email)["status"] == "subscribed", "setup"
    emulator.edit_member_by_hand(api_key, list_a, ann.email, status="unsubscribed")
    # A burst in shop A alone: its contacts are written again (as after its store was created again).
    assert state.requeue_keeping_member(burst_settings.shop_id, SyncKind.CONTACT) >= 8
    holder = RowHeld(shop.pk, ann.pk)
    if held:
        holder.start()
        assert holder.locked.wait(30)
    if one_by_one:
        # The same withdrawal learnt by the one-by-one drainer: its requeue waits for B's row (outside a
        # transaction), which shop B's transaction gives up after a few seconds.
        settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, BURST_THRESHOLD=0)
        threading.Timer(3, holder.release.set).start()
    batches = MailchimpBatch.objects.filter(shop_id=burst_settings.shop_id).count()
    try:
        run_due_work(shop_id=burst_settings.shop_id)
        made = MailchimpBatch.objects.filter(shop_id=burst_settings.shop_id).count() > batches
        assert made != one_by_one, "setup: sent %s" % ("in a batch" if made else "one by one")
        assert bulk.resume_batches(burst_settings.shop_id, poll_interval=0.02, timeout=60) == 0
    finally:
        if held:
            holder.release.set()
            holder.join(30)
    assert Contact.objects.get(pk=ann.pk).marketing_permission is False, "setup: the batch withdrew the consent"
    for _round in range(3):
        make_all_due()
        run_due_work()
        for shop_id in (burst_settings.shop_id, shop.pk):
            assert bulk.resume_batches(shop_id, poll_interval=0.02, timeout=60) == 0
    row_b = SyncState.objects.get(shop_id=shop.pk, kind=SyncKind.CONTACT, object_id=ann.pk)
    assert emulator.get_member(api_key, list_b, ann.email)["status"] == "unsubscribed", (
        "Ann's consent was withdrawn in the shop; shop B's audience still mails her (B's row: %s, opt_in %s)" % (
            row_b.status, row_b.opt_in))
