"""Disconnect, and every other way sending stops (a pause, "Send changes" unticked, the staging guard), stops a
worker in the middle of a round: it claims nothing more, sends no further slice, and gives back what it claimed
unsent, pending for when the shop sends again (review aud13 finding 1)."""
import pytest
from django.utils import timezone

from shoop_mailchimp.models import MailchimpConfiguration, SyncKind, SyncStatus
from shoop_mailchimp.sync import drainer, state
from shoop_mailchimp.sync.drainer import drain
from tests.disconnect.conftest import PRODUCTION, STAGING, run_on
from tests.helpers import member_writes, new_person, row_of

pytestmark = pytest.mark.django_db


def disconnect(settings, configuration):
    """What the admin's Disconnect commits (``stop_sending``)."""
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(disconnected_on=timezone.now(),
                                                                     store_syncing=False)


def pause(settings, configuration):
    """Another worker met a refused key: the shop pauses."""
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(paused_reason="The API key was refused.")


def untick_send_changes(settings, configuration):
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(enabled=False)


def move_to_staging(settings, configuration):
    """The staging guard: this process now runs on another site than the one the shop was initialized on."""
    run_on(settings, STAGING)


def send_again(settings, configuration):
    run_on(settings, PRODUCTION)
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(disconnected_on=None, paused_reason="",
                                                                     enabled=True)


STOPS = [disconnect, pause, untick_send_changes, move_to_staging]


@pytest.mark.parametrize("stop", STOPS, ids=lambda stop: stop.__name__)
def test_a_concurrent_round_that_keeps_claiming_contacts_stops_and_loses_nothing(settings, connected,
                                                                                mailchimp_account, monkeypatch,
                                                                                stop):
    """The admin presses Disconnect (or sending stops otherwise) while a worker drains a backlog of contacts with
    DRAIN_CONCURRENCY > 1: the round claims no more contacts and sends none it had not started; the rows it held
    are pending again, and go when the shop sends again."""
    emulator = mailchimp_account[0]
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DRAIN_CONCURRENCY=2, DRAIN_CHUNK=2,
                                    BURST_THRESHOLD=10000)
    people = [new_person() for _ in range(16)]
    emulator.clear_requests()
    original_claim = state.claim
    stopped = {}

    def claim(*args, **kwargs):
        if kwargs.get("kind") == SyncKind.CONTACT and not stopped:
            # Sending stops now (the admin's Disconnect commits), while the round runs.
            stop(settings, connected)
            stopped["puts_before"] = len(member_writes(emulator))
        return original_claim(*args, **kwargs)

    monkeypatch.setattr(state, "claim", claim)
    drain()
    assert stopped, "the round never claimed more contacts (test set-up)"
    sent_after = len(member_writes(emulator)) - stopped["puts_before"]
    # Sends already started may finish; a round must not claim and send new contacts after the disconnect.
    assert sent_after <= 2 * 2, ("%d member PUTs went to Mailchimp after sending stopped (of %d people)"
                                 % (sent_after, len(people)))
    rows = [row_of(person) for person in people]
    assert all(row.status in (SyncStatus.PENDING, SyncStatus.SYNCED) and not row.claimed_by for row in rows)

    send_again(settings, connected)
    drain()
    assert all(row_of(person).status == SyncStatus.SYNCED for person in people), "a row was lost"
    assert all(member_writes(emulator, person.email) for person in people)


@pytest.mark.parametrize("stop", [disconnect, move_to_staging], ids=lambda stop: stop.__name__)
def test_a_one_by_one_round_sends_no_slice_after_sending_stops(settings, connected, mailchimp_account,
                                                               monkeypatch, stop):
    """With one sending thread a claim holds up to DRAIN_CHUNK rows: after the stop, the slice being sent ends and
    the rest of the claim goes back to the queue, one read of the shop's state per slice (not per row)."""
    emulator = mailchimp_account[0]
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DRAIN_CONCURRENCY=1, DRAIN_CHUNK=100,
                                    BURST_THRESHOLD=10000)
    monkeypatch.setattr(drainer, "LOAD_SLICE", 3)
    people = [new_person() for _ in range(12)]
    emulator.clear_requests()
    original_execute = drainer.execute
    sends = []

    def execute(*args, **kwargs):
        sends.append(1)
        if len(sends) == 1:
            stop(settings, connected)  # during the round's first send
        return original_execute(*args, **kwargs)

    monkeypatch.setattr(drainer, "execute", execute)
    reads = []
    original_sends_now = drainer.sends_now
    monkeypatch.setattr(drainer, "sends_now", lambda shop_id: reads.append(shop_id) or original_sends_now(shop_id))
    report = drain()
    assert len(sends) <= 3, "%d contacts were sent after sending stopped, in the first slice of 3" % len(sends)
    assert reads == [connected.shop_id], "the shop's state is read once, before the second slice"
    assert report["held"] >= len(people) - len(sends), report  # (and the rows of other kinds it claimed)
    pending = [person for person in people if row_of(person).status == SyncStatus.PENDING]
    assert len(pending) == len(people) - len(sends) and not any(row_of(person).claimed_by for person in pending)

    monkeypatch.setattr(drainer, "execute", original_execute)
    send_again(settings, connected)
    drain()
    assert all(row_of(person).status == SyncStatus.SYNCED for person in people), "a row was lost"
