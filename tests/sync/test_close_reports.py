"""One rule for what a closed row counts as and logs, whichever path closed it (one by one, a batch):
``Outcome.report_word`` and ``Outcome.log_entry`` (see ``drainer.report_close``)."""
import pytest
from shuup.testing.factories import create_product

from shoop_mailchimp.mailchimp.errors import error_from_status
from shoop_mailchimp.models import LogKind, MailchimpLogEntry, SyncKind, SyncState, SyncStatus
from shoop_mailchimp.sync import bulk, state
from shoop_mailchimp.sync.outcome import ROW_DELETED, Outcome, Result, classify
from shoop_mailchimp.sync.rounds import run_due_work

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def test_products_deleted_through_a_batch_log_no_empty_error(shop, burst_settings, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    products = [create_product("mug-%d" % number, shop=shop, default_price=3) for number in range(8)]
    run_due_work(shop.pk)
    bulk.resume_batches(shop.pk, poll_interval=0)
    assert len(emulator.products(api_key, burst_settings.store_id)) == 8
    MailchimpLogEntry.objects.all().delete()
    for product in products:
        product.soft_delete()
    report = run_due_work(shop.pk)
    bulk.resume_batches(shop.pk, poll_interval=0, report=report)
    assert emulator.products(api_key, burst_settings.store_id) == []
    assert not SyncState.objects.products().exists()
    assert report["product removed"] == 8
    assert not MailchimpLogEntry.objects.filter(kind=LogKind.ERROR).exists()
    assert not MailchimpLogEntry.objects.filter(message="").exists()


@pytest.mark.parametrize("status, word", [(SyncStatus.PENDING, "retried"), (SyncStatus.FAILED, "failed"),
                                          (None, "retried")])
def test_a_retry_counts_as_retried_until_it_gives_up(status, word):
    outcome = classify(error_from_status(503, {"title": "Service Unavailable", "detail": "down"}))
    assert outcome.result == Result.RETRY
    assert outcome.report_word(status) == word
    action, message, final = outcome.log_entry(status)
    assert (action, final) == ("sync", word == "failed")
    assert message.endswith("(tried again by itself)") != final


def test_what_is_logged_of_a_closed_row():
    assert Outcome.removed().log_entry(ROW_DELETED) is None
    assert Outcome.synced().log_entry(SyncStatus.SYNCED) is None
    assert Outcome.unchanged().log_entry(SyncStatus.SYNCED) is None
    assert Outcome.skipped("no e-mail").log_entry(SyncStatus.SKIPPED) == ("skip", "Not sent: no e-mail", False)
    assert Outcome.failed("refused").log_entry(SyncStatus.FAILED) == ("sync", "refused", True)
    assert Outcome.removed().report_word(ROW_DELETED) == "removed"


def test_a_removed_close_deletes_the_row_nothing_changed_while_out(shop, configuration):
    state.record(shop.pk, SyncKind.CART, [987654])
    (row,) = state.claim(shop.pk, kind=SyncKind.CART)
    assert state.close(row, Outcome.removed()) == ROW_DELETED
    assert not SyncState.objects.filter(pk=row.pk).exists()


def test_a_removed_close_of_a_row_changed_while_out_gives_the_row_back(shop, configuration):
    """Review aud10: the delete is guarded by the claimed version, so a row changed while it was out is kept; it
    must then be given back as pending as every other close gives such a row back (it stayed leased to the
    finished claim, its newer change waiting for the lease to run out), and not be counted removed."""
    state.record(shop.pk, SyncKind.CART, [987654])
    (row,) = state.claim(shop.pk, kind=SyncKind.CART)
    state.record(shop.pk, SyncKind.CART, [987654])  # a newer change while the row is out
    closed_as = state.close(row, Outcome.removed())
    after = SyncState.objects.get(pk=row.pk)  # the version guard kept it, rightly
    assert (closed_as, after.status, after.claimed_by) == (SyncStatus.PENDING, SyncStatus.PENDING, "")
    assert Outcome.removed().report_word(closed_as) == "requeued"
    assert [again.pk for again in state.claim(shop.pk, kind=SyncKind.CART)] == [row.pk]  # its newer state goes next
