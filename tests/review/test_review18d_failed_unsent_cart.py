"""review18d: a cart whose first POST reached Mailchimp without the shop learning it (a timeout) and whose retries
then failed for good (FAILED, never ``last_synced_at``) is never deleted: the round's expiry looks only at rows with
``last_synced_at``, although the plan itself counts such a row as one Mailchimp may hold (may_be_in_mailchimp).
Mailchimp keeps the cart (and its abandoned-cart e-mails) for ever."""
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from shuup.front.models import StoredBasket

from shoop_mailchimp.models import SyncState
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.rounds import run_due_work
from tests.cart_helpers import shopper_with_a_basket, stored
from tests.helpers import make_all_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def test_a_cart_that_may_be_in_mailchimp_and_failed_is_deleted_after_its_lifetime(shop, cart_settings,
                                                                                  mailchimp_account, settings):
    emulator, api_key, list_id = mailchimp_account
    user, person, basket = shopper_with_a_basket(shop, "cart.unsent@fastmail.com")
    drain()  # the contact and the product go; the cart waits for its quiet period
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, TIMEOUT=(5, 1), MAX_ATTEMPTS=2)
    emulator.faults.latency(2)
    make_all_due()
    drain()
    deadline = time.monotonic() + 10
    while not emulator.carts(api_key, cart_settings.store_id):
        assert time.monotonic() < deadline, "the POST never reached the emulator"
        time.sleep(0.05)
    emulator.faults.latency(0)
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, TIMEOUT=(5, 30))
    emulator.faults.fail("*/carts*", status=503)
    for _ in range(3):
        make_all_due()
        drain()
    row = SyncState.objects.carts().get(object_id=stored(basket).pk)
    assert row.status == "failed" and row.last_synced_at is None, (row.status, row.last_synced_at)
    emulator.faults.clear()
    assert emulator.carts(api_key, cart_settings.store_id), "Mailchimp holds the cart"

    lifetime = settings.SHOOP_MAILCHIMP.get("CART_LIFETIME", 14 * 86400)
    long_ago = timezone.now() - timedelta(seconds=lifetime + 60)
    StoredBasket.objects.filter(pk=stored(basket).pk).update(updated_on=long_ago)
    run_due_work()
    make_all_due()
    run_due_work()
    assert emulator.carts(api_key, cart_settings.store_id) == [], "the cart outlived its lifetime in Mailchimp"
