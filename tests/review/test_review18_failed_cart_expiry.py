"""Review 18: a cart Mailchimp holds whose later send failed (here: the storefront's address went missing, so the
plan fails with "The cart needs a link back") is never deleted when its lifetime passes: the round's expiry
(``rounds.expire_carts``) queues only rows whose status is *synced*. The cart stays in Mailchimp with the basket's
products and the shopper, its link long expired, until the basket happens to change or be ordered."""
from datetime import timedelta

import pytest
from django.utils import timezone
from shuup.front.models import StoredBasket

from shoop_mailchimp.models import SyncState
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.rounds import run_due_work
from tests.cart_helpers import add, basket_of, products, shopper, stored
from tests.helpers import make_all_due

pytestmark = pytest.mark.django_db(transaction=True)


def send_due_carts():
    make_all_due()
    return drain()


def test_a_sent_cart_whose_later_send_failed_is_still_deleted_after_its_lifetime(shop, cart_settings, settings,
                                                                                 mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    user, person = shopper(email="failed.fay@fastmail.com")
    basket = basket_of(shop, user)
    first, second = products(shop, 2)
    add(basket, shop, first)
    send_due_carts()
    assert len(emulator.carts(api_key, cart_settings.store_id)) == 1

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, STOREFRONT_BASE_URL=None)  # a settings change
    add(basket, shop, second)
    send_due_carts()
    row = SyncState.objects.carts().get(object_id=stored(basket).pk)
    assert row.status == "failed" and row.last_synced_at
    assert len(emulator.carts(api_key, cart_settings.store_id)) == 1, "the first send is still in Mailchimp"

    lifetime = settings.SHOOP_MAILCHIMP.get("CART_LIFETIME", 14 * 86400)
    long_ago = timezone.now() - timedelta(seconds=lifetime + 60)
    StoredBasket.objects.filter(pk=stored(basket).pk).update(updated_on=long_ago)
    SyncState.objects.carts().update(last_synced_at=long_ago)
    run_due_work()
    make_all_due()
    run_due_work()
    assert emulator.carts(api_key, cart_settings.store_id) == [], "a cart past its lifetime is deleted in Mailchimp"
