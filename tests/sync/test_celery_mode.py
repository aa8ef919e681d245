"""DELIVERY="celery": commits are followed by drain tasks on the broker, published off the request."""
import logging

import celery
import pytest
from celery.app import app_or_default
from django.db import transaction
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncState, SyncStatus
from shoop_mailchimp.sync.delivery import task_publisher
from shoop_mailchimp.sync.tasks import drain_shop
from tests.helpers import wait_for_batches

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.fixture
def broker(configuration, settings):
    """Celery's own in-memory transport as the broker: real publishing, messages read back here."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="celery")
    previous = app_or_default()  # the current app (the proxy resolved)
    app = celery.Celery("tests", broker="memory://", set_as_current=True)
    yield app
    app.close()
    previous.set_current()


def published_tasks(app):
    """(task name, args) of every message waiting on the default queue, taken off it."""
    tasks = []
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue("celery")
        while queue.qsize():
            message = queue.get(timeout=1)
            tasks.append((message.headers["task"], message.payload[0]))
            message.ack()
        queue.close()
    return tasks


def test_commits_publish_drain_tasks_that_deliver(broker, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    published_tasks(broker)
    people = []
    for number in range(5):
        with transaction.atomic():
            people.append(PersonContact.objects.create(
                first_name="Cel%d" % number, email="cel.%d@fastmail.com" % number, marketing_permission=True))
    assert emulator.get_member(api_key, list_id, people[0].email) is None, "nothing is sent in the request"
    task_publisher.wait_idle(30)
    tasks = published_tasks(broker)
    assert 1 <= len(tasks) <= 5, "one task per commit at most; commits faster than publishing share one"
    assert {(name, tuple(args)) for name, args in tasks} == {
        ("shoop_mailchimp.sync.tasks.drain_shop", (configuration.shop_id,))
    }
    drain_shop(*tasks[-1][1])  # as a worker would
    for person in people:
        assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    assert set(SyncState.objects.filter(kind="contact").values_list("status", flat=True)) == {SyncStatus.SYNCED}


def test_a_rolled_back_change_publishes_nothing(broker, mailchimp_account):
    published_tasks(broker)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            PersonContact.objects.create(first_name="Rolf", email="rolf@fastmail.com", marketing_permission=True)
            raise RuntimeError("the request failed")
    task_publisher.wait_idle(30)
    assert published_tasks(broker) == []
    assert not SyncState.objects.filter(kind="contact").exists()


def test_a_dead_broker_loses_nothing(configuration, mailchimp_account, settings, caplog):
    """The save commits; publishing fails in the background; the row waits for the beat's round."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="celery")
    previous = app_or_default()  # the current app (the proxy resolved)
    app = celery.Celery("tests", broker="redis://127.0.0.1:9/0", set_as_current=True)  # nothing listens on 9
    app.conf.broker_connection_retry = False
    app.conf.broker_transport_options = {"max_retries": 0}
    try:
        with caplog.at_level(logging.ERROR, logger="shoop_mailchimp.sync.delivery"):
            with transaction.atomic():
                person = PersonContact.objects.create(first_name="Dot", email="dot@fastmail.com",
                                                      marketing_permission=True)
            task_publisher.wait_idle(60)
    finally:
        app.close()
        previous.set_current()
    assert "Could not enqueue the Mailchimp delivery task" in caplog.text
    assert SyncState.objects.get(kind="contact", object_id=person.pk).status == SyncStatus.PENDING


def test_a_shop_with_open_batches_is_looked_at_again_before_beat_comes(broker, configuration, mailchimp_account,
                                                                        settings):
    """A burst's next phase would otherwise wait for beat's round, a minute: ``drain_shop`` follows itself
    every BATCH_POLL_INTERVAL while batches are open, one follow-up for all the commits that asked."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, BURST_THRESHOLD=3, BATCH_SIZE=4, BATCH_POLL_INTERVAL=0.5)
    emulator.batch_delay = 60  # the round's own look finds the batches still running (held until let go)
    with transaction.atomic():
        people = [PersonContact.objects.create(first_name="Burst", email="burst.%d@fastmail.com" % number,
                                               marketing_permission=True) for number in range(4)]
    task_publisher.wait_idle(30)
    published_tasks(broker)
    drain_shop(configuration.shop_id)
    drain_shop(configuration.shop_id)  # a second commit's task in the same interval books no second look
    follow_ups = published_tasks(broker)
    assert follow_ups == [("shoop_mailchimp.sync.tasks.drain_shop", [configuration.shop_id])]
    emulator.batch_delay = 0
    # Each follow-up below runs as its countdown ended: none is turned away for following the last too soon.
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, BATCH_POLL_INTERVAL=0)
    for _round in range(20):
        if not SyncState.objects.filter(kind="contact").exclude(status=SyncStatus.SYNCED).exists():
            break
        wait_for_batches(emulator, api_key)
        drain_shop(configuration.shop_id)  # the follow-up, as a worker runs it when its countdown ends
    for person in people:
        assert emulator.get_customer(api_key, configuration.store_id, str(person.pk))["opt_in_status"] is True
