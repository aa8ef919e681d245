"""Found by independent review pg58 (issue 19) of dcc101d, F5 (open, a strict expected failure; consent): a worker
killed after a send found the person unsubscribed and the shop's consent was withdrawn, but before the withdrawal was
queued for the other shops, loses it for good. In the one-by-one drainer (``sync/drainer.py: Drainer._close``) the row
is closed (committed), then ``contact.after_close`` → ``withdraw_consent`` commits ``Contact.marketing_permission =
False`` in a statement of its own, and only then ``member_events.record_withdrawal(worker=True)`` queues the contact's
rows of the other shops (``state.requeue``). After a kill in between, nothing queues them again: the contact no longer
consents, so no later withdrawal is "turned off" by a save, and the other shops' rows stay synced with the consent
given.

Harm: Ann consented; two shops sharing their contacts sent her to their audiences (A and B), subscribed. She
unsubscribes from shop A's audience (the webhook lost). Shop A's next send of Ann finds her unsubscribed and withdraws
her consent in the shop; the worker is killed (a deploy's restart, the OOM killer) before the withdrawal is queued for
shop B. Shop B's audience keeps mailing Ann for good, though her contact says she does not consent.

Steps (PostgreSQL, a real forked worker killed with SIGKILL as it calls ``state.requeue`` for shop B's contact row; then
fresh drains, every lease and backoff expired): two shops with shared contacts, Ann synced in both; Ann unsubscribed by
hand in A's audience; Ann's row in shop A queued to be written again; the worker drains shop A. Expected (the control:
the same worker not killed): Ann's member in B's audience unsubscribed. Found: subscribed."""
import pytest
from django.db import connection
from shuup.core.models import Contact

from shoop_mailchimp.models import SyncKind, SyncState
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, new_person
from tests.services.pg58.helpers import in_a_worker_killed_at, run_inner_on_postgresql

#: Review pg58 F5 (a strict expected failure until fixed).
OPEN = pytest.mark.xfail(strict=True, reason=(
    "pg58 F5, open: the withdrawal and its requeue for the other shops are two commits"))


@pytest.mark.services
@pytest.mark.timeout(600)
def test_killed_before_a_withdrawal_reaches_the_other_shops_on_postgresql(postgres_port):
    run_inner_on_postgresql(__file__, postgres_port, expected_passed=1, expected_xfailed=1)


@pytest.fixture
def worker(configuration, settings):
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", BURST_THRESHOLD=0)
    return configuration


def _rounds(count=3):
    for _round in range(count):
        make_all_due()
        drain()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("killed", [False, pytest.param(True, marks=OPEN)],
                         ids=["control-not-killed", "killed-before-the-requeue"])
def test_a_withdrawal_a_send_learns_reaches_the_other_shop_after_a_worker_dies(worker, shop_b, mailchimp_account,
                                                                              killed):
    if connection.vendor != "postgresql":
        pytest.skip("run on PostgreSQL by the services test above")
    emulator, api_key, list_a = mailchimp_account
    shop, list_b = shop_b
    ann = new_person(email="ann.withdrawn.pg58.%s@fastmail.com" % killed)
    _rounds()
    assert emulator.get_member(api_key, list_a, ann.email)["status"] == "subscribed", "setup"
    assert emulator.get_member(api_key, list_b, ann.email)["status"] == "subscribed", "setup"
    emulator.edit_member_by_hand(api_key, list_a, ann.email, status="unsubscribed")
    SyncState.objects.filter(shop_id=worker.shop_id, kind=SyncKind.CONTACT, object_id=ann.pk).update(
        fingerprint=state.cleared_fingerprint())
    state.record(worker.shop_id, SyncKind.CONTACT, [ann.pk])  # shop A writes Ann again

    def other_shop_queued(shop_id, kind, object_ids, only_known=False):
        return shop_id == shop.pk and kind == SyncKind.CONTACT

    died = in_a_worker_killed_at(lambda: drain(shop_id=worker.shop_id), state, "requeue",
                                 other_shop_queued if killed else None)
    assert died == killed, "setup: the worker was%s killed" % ("" if died else " not")
    connection.close()
    assert Contact.objects.get(pk=ann.pk).marketing_permission is False, "setup: shop A withdrew the consent"
    _rounds()
    row_b = SyncState.objects.get(shop_id=shop.pk, kind=SyncKind.CONTACT, object_id=ann.pk)
    assert emulator.get_member(api_key, list_b, ann.email)["status"] == "unsubscribed", (
        "Ann's consent was withdrawn in the shop; shop B's audience still mails her (B's row: %s, opt_in %s)" % (
            row_b.status, row_b.opt_in))
