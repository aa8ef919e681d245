"""review18d: an unsubscribe in one shop's audience withdraws the shopper's consent (Shuup's one
``marketing_permission``, "a withdrawal counts in every shop": shoop_mailchimp/shop_consent.py), but only that
shop's carts are queued (member_events.handle_unsubscribe, drainer.withdraw_consent: ``record_carts_of`` of the
webhook's shop). The shopper's cart in another shop that sends only people who consented stays in its Mailchimp
store (with their restore link) until the basket changes or CART_LIFETIME passes; on the account page the same
withdrawal queues the carts of every shop (receivers/contacts.py)."""
import pytest
from django.utils import timezone
from shuup.core.models import Shop, ShopStatus

from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.member_events import handle_event
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.drainer import drain
from tests.cart_helpers import add, basket_of, products, shopper, stored
from tests.helpers import make_all_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def send_due_carts():
    for _ in range(2):  # the contact first, then the cart
        make_all_due()
        drain()


def test_an_unsubscribe_in_shop_a_deletes_the_shoppers_cart_in_shop_b(shop, cart_settings, settings,
                                                                        mailchimp_account):
    settings.SHUUP_ENABLE_MULTIPLE_SHOPS = True
    settings.SHUUP_MANAGE_CONTACTS_PER_SHOP = False
    emulator, api_key, list_id = mailchimp_account
    shop_b = Shop.objects.create(identifier="b", name="Shop B", public_name="Shop B", domain="b.example.com",
                                 status=ShopStatus.ENABLED, currency=shop.currency,
                                 prices_include_tax=shop.prices_include_tax)
    list_b = emulator.add_list(api_key, name="Shop B audience")
    config_b = MailchimpConfiguration.objects.create(shop=shop_b, api_key=api_key, list_id=list_b, enabled=True,
                                                     send_unconsented=False)
    initialize(config_b)
    config_b.refresh_from_db()

    user, person = shopper(email="two.shops.tom@fastmail.com")  # consent given where no shop is named
    basket = basket_of(shop_b, user, host="b.example.com")
    add(basket, shop_b, products(shop_b)[0])
    assert stored(basket).shop == shop_b
    send_due_carts()
    assert [cart["id"] for cart in emulator.carts(api_key, config_b.store_id)] == [str(stored(basket).pk)]

    handle_event(cart_settings, {"type": "unsubscribe", "fired_at": timezone.now().replace(microsecond=0),
                                 "data": {"list_id": list_id, "email": person.email, "action": "unsub"}})
    person.refresh_from_db()
    assert person.marketing_permission is False, "the withdrawal counts in every shop"
    send_due_carts()
    assert emulator.carts(api_key, config_b.store_id) == [], \
        "shop B sends only people who consented, yet keeps the cart of somebody who withdrew"
