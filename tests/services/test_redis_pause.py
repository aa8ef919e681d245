"""A 429 seen by one worker throttles the shop for every worker sharing Redis, until the retry time."""
import contextlib
import subprocess
import sys
import time

import pytest

from shoop_mailchimp.mailchimp import limits
from shoop_mailchimp.mailchimp.limits import KEY_PREFIX
from shoop_mailchimp.models import SyncState, SyncStatus
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.tasks import drain_shop
from tests.helpers import make_all_due, new_person

pytestmark = [pytest.mark.services, pytest.mark.django_db]

OTHER_WORKER = """
import time

import django
from django.conf import settings
settings.configure(SHOOP_MAILCHIMP={"REDIS_URL": %r})
django.setup()
from shoop_mailchimp.mailchimp import limits
from shoop_mailchimp.mailchimp.limits import KEY_PREFIX
limits.time = type("MovedTime", (), {"time": staticmethod(lambda: time.time() + %r), "sleep": time.sleep})
print(limits.shop_throttled_for(%d))
"""


class MovedTime:
    """``time`` as ``mailchimp.limits`` reads it, ``offset`` seconds later: a throttle's time passing without waiting
    for it (on every worker: the other process's clock is moved as much)."""

    sleep = staticmethod(time.sleep)

    def __init__(self, offset):
        self.offset = offset

    def time(self):
        return time.time() + self.offset


def throttled_for_in_another_process(redis_url, shop_id, clock_moved_by=0.0):
    """``shop_throttled_for`` as a worker process of its own, sharing Redis, reads it (its clock moved by
    ``clock_moved_by`` seconds)."""
    output = subprocess.run([sys.executable, "-c", OTHER_WORKER % (redis_url, clock_moved_by, shop_id)], check=True,
                            stdout=subprocess.PIPE, timeout=60).stdout
    return float(output.split()[-1])


def test_a_429_throttles_the_shop_for_every_worker(redis_url, configuration, mailchimp_account, settings,
                                                    monkeypatch):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", REDIS_URL=redis_url,
                                    RETRY_BASE_DELAY=15)  # long enough for a process started on a busy machine
    people = [new_person() for _number in range(5)]
    emulator.faults.fail("/lists/*/members/*", status=429, times=1)
    assert drain()["postponed"] >= 5

    seen_elsewhere = throttled_for_in_another_process(redis_url, configuration.shop_id)
    assert 0 < seen_elsewhere <= 15

    people.append(new_person())
    emulator.clear_requests()
    assert drain_shop(configuration.shop_id) == {"throttled": 1}, "a Celery worker claims nothing"
    assert drain() == {"postponed": 1}, "the worker loop gives the new row back untried"
    assert emulator.requests == []

    # The throttle's time passes (the clocks of this worker and of another move past its end), and the rows'
    # backoff with it.
    passed = limits.shop_throttled_for(configuration.shop_id) + 0.1
    monkeypatch.setattr(limits, "time", MovedTime(passed))
    assert throttled_for_in_another_process(redis_url, configuration.shop_id, clock_moved_by=passed) == 0
    assert limits.shop_throttled_for(configuration.shop_id) == 0
    make_all_due()
    assert drain_shop(configuration.shop_id)["contact synced"] == 6
    assert set(SyncState.objects.filter(kind="contact").values_list("status", flat=True)) == {SyncStatus.SYNCED}
    for person in people:
        assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    assert not [request for request in emulator.requests if request["status"] == 429]


def test_one_look_at_a_shops_batches_is_booked_per_interval_for_every_worker(redis_url, settings):
    from shoop_mailchimp.sync import tasks

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, REDIS_URL=redis_url)
    with key_expiries(redis_url) as expired:
        assert tasks.book_batch_look(7, 0.5)
        tasks._local_looks.clear()  # another worker: nothing booked in its memory, the same Redis
        assert not tasks.book_batch_look(7, 0.5)
        assert tasks.book_batch_look(8, 0.5), "each shop books its own"
        expired(KEY_PREFIX + "batch-look:7")
    assert tasks.book_batch_look(7, 0.5), "the booking ends with its interval"


@contextlib.contextmanager
def key_expiries(redis_url):
    """Redis's events of keys expiring (its keyspace notifications, turned on): ``expired(key)`` waits until
    ``key``'s time ran out."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.config_set("notify-keyspace-events", "Ex")
    events = client.pubsub()
    events.psubscribe("__keyevent@*__:expired")
    assert events.get_message(timeout=10)["type"] == "psubscribe"

    def expired(key, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            event = events.get_message(timeout=max(0, deadline - time.monotonic()))
            assert event is not None, "%s never expired" % key
            if event["data"].decode() == key:
                return

    try:
        yield expired
    finally:
        events.close()
        client.close()
