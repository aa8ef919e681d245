"""The drainer's and the ``--loop`` worker's numbers are named, and they do what their names say."""
import pytest
from shuup.testing.factories import get_shop

from shoop_mailchimp.management.commands.mailchimp_sync import Command
from shoop_mailchimp.models import BatchStatus, MailchimpBatch, SyncStatus
from shoop_mailchimp.sync import drainer
from shoop_mailchimp.sync.kinds import contact
from tests.helpers import new_person, row_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("concurrency", [1, 2])
def test_rows_are_planned_load_slice_at_a_time(settings, configuration, mailchimp_account, monkeypatch, concurrency):
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", DRAIN_CONCURRENCY=concurrency,
                                    DRAIN_CHUNK=100)
    people = [new_person() for _number in range(7)]
    loads = []
    real_load = contact.load

    def load(configuration, rows):
        loads.append(len(rows))
        return real_load(configuration, rows)

    monkeypatch.setattr(contact, "load", load)
    monkeypatch.setattr(drainer, "LOAD_SLICE", 3)
    report = drainer.drain(shop_id=configuration.shop_id)
    assert report["contact synced"] == 7
    assert loads == [3, 3, 1]
    assert {row_of(person).status for person in people} == {SyncStatus.SYNCED}


def test_the_loop_waits_its_interval_or_the_batch_poll_interval_while_batches_are_open(settings, shop):
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, BATCH_POLL_INTERVAL=2)
    assert Command.next_round_in() == Command.DEFAULT_INTERVAL == 5.0
    assert Command.next_round_in(30, shop.pk) == 30
    other = get_shop(identifier="other-shop", name="Other")
    batch = MailchimpBatch.objects.create(shop=other, token="t" * 32)
    assert batch.status in BatchStatus.OPEN
    assert Command.next_round_in(30, shop.pk) == 30  # another shop's batch: not this worker's to look at
    assert Command.next_round_in(30) == 2
    assert Command.next_round_in(1, other.pk) == 1  # never longer than asked
    MailchimpBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.DONE)
    assert Command.next_round_in(30) == 30


def test_a_claim_renews_its_lease_after_a_share_of_it(settings, configuration, mailchimp_account, monkeypatch):
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", DRAIN_CONCURRENCY=1,
                                    LEASE_SECONDS=30)
    for _number in range(3):
        new_person()
    clock = [1000.0]
    monkeypatch.setattr(drainer.time, "monotonic", lambda: clock[0])
    renewals = []
    real_renew = drainer.state.renew_lease

    def renew_lease(rows, seconds):
        renewals.append(clock[0])
        return real_renew(rows, seconds)

    real_send = drainer.ShopDelivery._send

    def send(self, row, plan):
        clock[0] += 6  # each send takes a fifth of the lease
        return real_send(self, row, plan)

    monkeypatch.setattr(drainer.state, "renew_lease", renew_lease)
    monkeypatch.setattr(drainer.ShopDelivery, "_send", send)
    assert drainer.drain(shop_id=configuration.shop_id)["contact synced"] == 3
    # A third of 30 s: renewed before the third send (12 s since the claim), not before the second (6 s).
    assert renewals == [1012.0]
    assert drainer.RENEW_LEASE_AFTER == pytest.approx(1 / 3)
