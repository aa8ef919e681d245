
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from shuup.core.models import PersonContact

from shoop_mailchimp.models import (
    BatchOrigin,
    BatchStatus,
    MailchimpBatch,
    MailchimpConfiguration,
    SyncState,
    SyncStatus,
)
from shoop_mailchimp.sync import delivery, rounds
from shoop_mailchimp.sync.rounds import run_due_work
from tests.helpers import make_all_due, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_worker_mode_only_records_and_the_command_delivers(configuration, mailchimp_account, settings, capsys):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator.clear_requests()
    person = PersonContact.objects.create(first_name="Wes", email="wes@fastmail.com", marketing_permission=True)
    assert emulator.requests == []
    assert SyncState.objects.get(object_id=person.pk, kind="contact").status == SyncStatus.PENDING
    call_command("mailchimp_sync", shop=configuration.shop_id)
    assert "contact synced: 1" in capsys.readouterr().out
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    call_command("mailchimp_sync")
    assert "Nothing to deliver" in capsys.readouterr().out


@pytest.fixture
def real_background_drainer(monkeypatch):
    """The background drainer's own thread, instead of the tests' synchronous stand-in."""
    drainer = delivery.BackgroundDrainer()
    monkeypatch.setattr(delivery, "background_drainer", drainer)
    yield drainer
    drainer.stop()


def test_background_mode_delivers_in_a_thread_after_commit(configuration, mailchimp_account, settings,
                                                          real_background_drainer):
    emulator, api_key, list_id = mailchimp_account
    emulator.faults.latency(0.3)
    with transaction.atomic():
        person = PersonContact.objects.create(first_name="Tia", email="tia@fastmail.com", marketing_permission=True)
    # The save returned before Mailchimp answered ...
    assert emulator.get_member(api_key, list_id, person.email) is None
    real_background_drainer.wait_idle()
    # ... and the delivery happened in the background.
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    assert SyncState.objects.get(object_id=person.pk, kind="contact").status == SyncStatus.SYNCED


def test_background_mode_retries_by_itself_after_an_outage(configuration, mailchimp_account, settings,
                                                          real_background_drainer):
    """No later save and no button: the drainer's periodic round sends what failed during the outage."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, POLL_INTERVAL=0.2, RETRY_BASE_DELAY=0.2)
    emulator.faults.down()
    with transaction.atomic():
        person = PersonContact.objects.create(first_name="Ora", email="ora@fastmail.com", marketing_permission=True)
    real_background_drainer.wait_idle()
    state = SyncState.objects.get(object_id=person.pk, kind="contact")
    assert state.status == SyncStatus.PENDING and state.attempts >= 1 and state.next_attempt_at
    emulator.faults.up()
    wait_for(emulator, lambda: emulator.get_member(api_key, list_id, person.email), "the retry going out by itself",
             timeout=20)
    real_background_drainer.wake()
    real_background_drainer.wait_idle()  # a round after the one that sent it: that one closed the row
    assert SyncState.objects.get(pk=state.pk).status == SyncStatus.SYNCED
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"


@pytest.mark.parametrize("batch_poll_interval", [0.2, 30])
def test_the_background_drainer_looks_at_open_batches_by_itself(configuration, mailchimp_account, settings,
                                                               monkeypatch, real_background_drainer,
                                                               batch_poll_interval):
    """A burst's phases follow each other soon, though no commit wakes the drainer and POLL_INTERVAL is a minute:
    every BATCH_POLL_INTERVAL at most, and sooner after a submission. A burst that fits one batch was looked at
    by the round that submitted it (still running) and then BATCH_POLL_INTERVAL later: the 1,000 changed
    contacts of the quick bench took 6.7 s where two batches (the second's planning leaving the first time to
    finish) took 1.6 s. Looks after a submission now double their spacing from FIRST_BATCH_LOOK (30: this
    test fails on the code before)."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, POLL_INTERVAL=60, BATCH_POLL_INTERVAL=batch_poll_interval,
                                    BURST_THRESHOLD=3, BATCH_SIZE=10)
    # The rows close when the drainer's own look reads the last phase: no emulator event tells it. Each of the
    # drainer's rounds, once done, looks (in its thread) whether the burst's rows are closed and tells the test.
    closed = threading.Event()

    def round_then_look(woken=False):
        counts = run_due_work(woken=woken)
        if SyncState.objects.filter(kind="contact", status=SyncStatus.SYNCED).count() == 4:
            closed.set()
        return counts

    monkeypatch.setattr(delivery, "run_due_work", round_then_look)
    with transaction.atomic():
        people = [PersonContact.objects.create(first_name="Burst", email="burst%d@fastmail.com" % number,
                                               marketing_permission=True) for number in range(4)]
    assert closed.wait(20), "the burst's batch waited for the next POLL_INTERVAL or BATCH_POLL_INTERVAL"
    assert MailchimpBatch.objects.filter(origin=BatchOrigin.BURST).count() == 1
    for person in people:
        assert emulator.get_customer(api_key, configuration.store_id, str(person.pk))["opt_in_status"] is True


def test_looks_at_open_batches_double_their_spacing_up_to_the_batch_poll_interval(settings, shop):
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, BATCH_POLL_INTERVAL=5)
    assert rounds.batch_look_gap(shop.pk) is None
    batch = MailchimpBatch.objects.create(shop=shop, token="t" * 32)
    assert rounds.batch_look_gap(shop.pk) == 5  # not submitted yet (waiting for another kind's batches)
    for age, gap in ((0, rounds.FIRST_BATCH_LOOK), (2, 2), (60, 5)):
        MailchimpBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.SUBMITTED, submitted_on=timezone.now() - timedelta(seconds=age))
        assert abs(rounds.batch_look_gap(shop.pk) - gap) < 0.5
    assert rounds.batch_look_gap(shop.pk + 1000) is None


def test_worker_loop_survives_a_database_error(configuration, mailchimp_account, settings, monkeypatch, capsys):
    from django.db import OperationalError

    from shoop_mailchimp.management.commands import mailchimp_sync

    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    person = PersonContact.objects.create(first_name="Dee", email="dee@fastmail.com", marketing_permission=True)
    real_round, calls = mailchimp_sync.run_due_work, []

    def flaky_round(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real_round(**kwargs)

    def sleep(seconds):
        if len(calls) >= 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(mailchimp_sync, "run_due_work", flaky_round)
    monkeypatch.setattr(mailchimp_sync.time, "sleep", sleep)
    call_command("mailchimp_sync", loop=True, interval=0)
    assert "Database error" in capsys.readouterr().err
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"


def test_the_worker_looks_at_open_batches_every_batch_poll_interval_not_every_round(burst_settings, mailchimp_account,
                                                                                   settings, monkeypatch):
    """A burst's batch Mailchimp finished waits at most BATCH_POLL_INTERVAL for its look, not the worker's
    --interval (a shop running rounds every minute would have each burst phase wait a minute); without open
    batches the worker keeps its interval."""
    from types import SimpleNamespace

    from shoop_mailchimp.management.commands import mailchimp_sync
    from shoop_mailchimp.models import BatchStatus
    from shoop_mailchimp.sync import bulk
    from tests.sync.conftest import BURST_THRESHOLD

    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, BATCH_POLL_INTERVAL=2)
    emulator.batch_delay = 0.5  # the burst's batches are still running when its round ends
    people = [PersonContact.objects.create(first_name="Bo%d" % number, email="bo%d@fastmail.com" % number,
                                           marketing_permission=True) for number in range(BURST_THRESHOLD)]
    pauses = []

    def sleep(seconds):
        open_batches = MailchimpBatch.objects.filter(status__in=BatchStatus.OPEN).exists()
        pauses.append((seconds, open_batches))
        if not open_batches:
            raise KeyboardInterrupt
        emulator.batch_delay = 0
        assert bulk.resume_batches(burst_settings.shop_id, poll_interval=0.02, timeout=30) == 0

    monkeypatch.setattr(mailchimp_sync, "time", SimpleNamespace(sleep=sleep))
    call_command("mailchimp_sync", loop=True, interval=60)
    assert MailchimpBatch.objects.filter(origin=BatchOrigin.BURST).exists()
    (first_pause, batches_open), last_pause = pauses
    # Looked at again soon after the burst's submission (rounds.batch_look_gap), never later than the interval.
    assert batches_open and rounds.FIRST_BATCH_LOOK <= first_pause < 2
    assert last_pause == (60, False)
    for person in people:
        assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"


def test_an_unreachable_redis_postpones_sending_and_the_loop_goes_on(configuration, mailchimp_account, settings,
                                                                      monkeypatch, capsys):
    """REDIS_URL carries the per-key connection cap: while it is down nothing is sent, nothing fails."""
    from shoop_mailchimp.management.commands import mailchimp_sync

    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", REDIS_URL="redis://127.0.0.1:9/0")
    person = PersonContact.objects.create(first_name="Red", email="red@fastmail.com", marketing_permission=True)
    rounds = []

    def sleep(seconds):
        rounds.append(seconds)
        if len(rounds) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(mailchimp_sync.time, "sleep", sleep)
    call_command("mailchimp_sync", loop=True, interval=0)
    assert len(rounds) == 3, "the loop kept going"
    row = SyncState.objects.get(object_id=person.pk, kind="contact")
    assert (row.status, row.attempts, row.claimed_by) == (SyncStatus.PENDING, 0, ""), "given back, untried"
    assert emulator.get_member(api_key, list_id, person.email) is None
    assert MailchimpConfiguration.objects.get(pk=configuration.pk).paused_reason == ""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, REDIS_URL=None)  # Redis is back
    make_all_due()
    call_command("mailchimp_sync")
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
