"""Two workers looking at the same open batches at once (background threads of several web processes,
Celery workers): each phase is submitted once, and each result archive is read for the phase it belongs to."""
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from shoop_mailchimp.models import BatchStatus, MailchimpBatch, SyncKind, SyncState, SyncStatus
from shoop_mailchimp.sync import bulk
from tests.bulk.conftest import members_sent_per_hash
from tests.helpers import batch_posts, operation_kind, wait_for_batches

pytestmark = pytest.mark.django_db


def members_phase_ran(configuration, mailchimp_account, make_existing):
    """Four contacts of a bulk sync whose first phase (the reads) Mailchimp has run; returns the emulator."""
    emulator, api_key, _list_id = mailchimp_account
    make_existing(4)
    emulator.clear_requests()
    bulk.start(configuration.shop_id)
    wait_for_batches(emulator, api_key)
    return emulator


def phases_sent(emulator):
    """{phase: batches sent}: the reads of the members (each contact a first send at an address nobody proved), the
    members, the customers."""
    return Counter(operation_kind(operation) for operation in (
        post["body"]["operations"][0] for post in batch_posts(emulator)))


@pytest.mark.parametrize("waiting", ["first phase", "next phase"])
def test_a_phase_is_submitted_once_when_another_worker_submitted_it_meanwhile(configuration, mailchimp_account,
                                                                               make_existing, monkeypatch, waiting):
    """Worker B has listed a phase as waiting; worker A's whole look (which submits it) runs before B goes on."""
    emulator, api_key, list_id = mailchimp_account
    make_existing(8)  # two chunks of four
    emulator.clear_requests()
    if waiting == "first phase":
        bulk.record_existing(configuration.shop_id, SyncKind.CONTACT)
    else:
        bulk.start(configuration.shop_id)
        wait_for_batches(emulator, api_key)
    real_open_session = bulk.open_session

    def open_session_after_worker_a(configuration):
        monkeypatch.setattr(bulk, "open_session", real_open_session)
        bulk.check_batches(configuration.shop_id)  # worker A
        return real_open_session(configuration)

    monkeypatch.setattr(bulk, "open_session", open_session_after_worker_a)
    bulk.check_batches(configuration.shop_id)  # worker B, which listed the open batches before A's look
    assert bulk.resume_batches(configuration.shop_id, poll_interval=0.05, timeout=60) == 0
    assert phases_sent(emulator) == {"reads": 2, "members": 2, "customers": 2}
    assert set(members_sent_per_hash(emulator).values()) == {1}


def test_results_polled_for_one_phase_are_not_read_as_the_next_ones(configuration, mailchimp_account,
                                                                     make_existing, monkeypatch):
    """Worker B asks Mailchimp how batch X (the members phase) is doing; meanwhile worker A reads X and
    submits the customers phase as batch Y. B must not read X's results as Y's."""
    emulator = members_phase_ran(configuration, mailchimp_account, make_existing)
    real_statuses = bulk._statuses

    def statuses_then_worker_a(session, batch_ids):
        answer = real_statuses(session, batch_ids)
        monkeypatch.setattr(bulk, "_statuses", real_statuses)
        bulk.check_batches(configuration.shop_id)  # worker A: reads X, submits the next phase at once
        return answer

    monkeypatch.setattr(bulk, "_statuses", statuses_then_worker_a)
    bulk.check_batches(configuration.shop_id)  # worker B
    assert bulk.resume_batches(configuration.shop_id, poll_interval=0.05, timeout=60) == 0
    assert set(SyncState.objects.filter(kind="contact").values_list("status", flat=True)) == {SyncStatus.SYNCED}
    assert phases_sent(emulator) == {"reads": 1, "members": 1, "customers": 1}
    assert set(MailchimpBatch.objects.values_list("status", flat=True)) == {BatchStatus.DONE}


def test_a_worker_slower_than_its_take_does_not_overwrite_what_the_next_worker_did(configuration,
                                                                                    mailchimp_account,
                                                                                    make_existing, monkeypatch):
    """Worker B's read of the members phase outlasts TAKE_SECONDS (waiting on a contact's lock, say); worker
    A takes the batch, reads it and submits the customers phase. B must then neither put the batch back nor
    submit the customers phase a second time."""
    emulator = members_phase_ran(configuration, mailchimp_account, make_existing)
    real_apply_results = bulk.apply_results

    def take_runs_out_then_worker_a(configuration_, batch, results, journal, report):
        monkeypatch.setattr(bulk, "apply_results", real_apply_results)
        MailchimpBatch.objects.filter(pk=batch.pk).update(taken_until=timezone.now() - timedelta(seconds=1))
        bulk.check_batches(configuration.shop_id)  # worker A
        return real_apply_results(configuration_, batch, results, journal, report)

    monkeypatch.setattr(bulk, "apply_results", take_runs_out_then_worker_a)
    bulk.check_batches(configuration.shop_id)  # worker B
    assert bulk.resume_batches(configuration.shop_id, poll_interval=0.05, timeout=60) == 0
    assert set(SyncState.objects.filter(kind="contact").values_list("status", flat=True)) == {SyncStatus.SYNCED}
    assert phases_sent(emulator) == {"reads": 1, "members": 1, "customers": 1}


def test_a_stale_poll_does_not_rewrite_a_batch_that_moved_on(configuration, mailchimp_account, make_existing,
                                                             monkeypatch):
    """Worker B polls the members phase while it is pending; worker A then reads it and finishes the batch.
    B's "not finished yet" must not be written over the batch that moved on."""
    emulator, api_key, list_id = mailchimp_account
    make_existing(4)
    emulator.batch_delay = 60  # held until B's poll has its answer
    bulk.start(configuration.shop_id)
    real_statuses = bulk._statuses

    def stale_poll_then_worker_a(session, batch_ids):
        answer = real_statuses(session, batch_ids)
        monkeypatch.setattr(bulk, "_statuses", real_statuses)
        emulator.batch_delay = 0
        assert bulk.resume_batches(configuration.shop_id, poll_interval=0.05, timeout=60) == 0  # worker A
        return answer

    monkeypatch.setattr(bulk, "_statuses", stale_poll_then_worker_a)
    bulk.check_batches(configuration.shop_id)  # worker B
    batch = MailchimpBatch.objects.get()
    assert batch.status == BatchStatus.DONE and batch.remote_status == "finished"
