"""A 429 seen by one worker throttles the shop for every worker sharing Redis, until the retry time."""
import subprocess
import sys
import time

import pytest

from shoop_mailchimp.mailchimp import limits
from shoop_mailchimp.models import SyncState, SyncStatus
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.tasks import drain_shop
from tests.helpers import new_person

pytestmark = [pytest.mark.services, pytest.mark.django_db]

OTHER_WORKER = """
import django
from django.conf import settings
settings.configure(SHOOP_MAILCHIMP={"REDIS_URL": %r})
django.setup()
from shoop_mailchimp.mailchimp.limits import shop_throttled_for
print(shop_throttled_for(%d))
"""


def throttled_for_in_another_process(redis_url, shop_id):
    output = subprocess.run([sys.executable, "-c", OTHER_WORKER % (redis_url, shop_id)], check=True,
                            stdout=subprocess.PIPE, timeout=60).stdout
    return float(output.split()[-1])


def test_a_429_throttles_the_shop_for_every_worker(redis_url, configuration, mailchimp_account, settings):
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

    time.sleep(limits.shop_throttled_for(configuration.shop_id) + 0.1)
    assert throttled_for_in_another_process(redis_url, configuration.shop_id) == 0
    deadline = time.time() + 15
    while time.time() < deadline and SyncState.objects.exclude(status=SyncStatus.SYNCED).exists():
        drain_shop(configuration.shop_id)
        time.sleep(0.25)
    assert set(SyncState.objects.filter(kind="contact").values_list("status", flat=True)) == {SyncStatus.SYNCED}
    for person in people:
        assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    assert not [request for request in emulator.requests if request["status"] == 429]


def test_one_look_at_a_shops_batches_is_booked_per_interval_for_every_worker(redis_url, settings):
    from shoop_mailchimp.sync import tasks

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, REDIS_URL=redis_url)
    assert tasks.book_batch_look(7, 0.5)
    tasks._local_looks.clear()  # another worker: nothing booked in its memory, the same Redis
    assert not tasks.book_batch_look(7, 0.5)
    assert tasks.book_batch_look(8, 0.5), "each shop books its own"
    time.sleep(0.6)
    assert tasks.book_batch_look(7, 0.5), "the booking ends with its interval"
