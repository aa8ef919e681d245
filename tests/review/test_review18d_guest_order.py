"""review18d: a customer's own guest order (another device, not logged in, not through the restore link) leaves the
cart of their logged-in basket in Mailchimp: nothing queues it, so Mailchimp goes on mailing an abandoned-cart
e-mail to somebody who just ordered (docs/carts.rst: "when its shopper (... the contact's own address, in any case)
has ordered since it last changed, in another basket")."""
import pytest
from django.test import Client

from shoop_mailchimp.sync.drainer import drain
from tests.cart_helpers import add, basket_of, order_in, products, shopper, stored
from tests.helpers import make_all_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def send_due_carts():
    make_all_due()
    return drain()


def test_the_customers_guest_order_elsewhere_ends_their_cart(shop, cart_settings, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    user, person = shopper(email="guest.gina@fastmail.com")
    basket = basket_of(shop, user)
    first, second = products(shop, 2)
    add(basket, shop, first)
    send_due_carts()
    holder = stored(basket)
    assert str(holder.pk) in {cart["id"] for cart in emulator.carts(api_key, cart_settings.store_id)}

    phone = Client()  # another device, not logged in, no restore link
    phone.post("/basket/", {"command": "add", "product_id": second.pk, "quantity": 1})
    order = order_in(phone, email="Guest.Gina@fastmail.com")
    assert order.customer_id is None and order.lines.products().filter(product=second).exists()

    send_due_carts()
    assert str(holder.pk) not in {cart["id"] for cart in emulator.carts(api_key, cart_settings.store_id)}, \
        "the customer ordered (as a guest, with their own address): Mailchimp still holds their cart"
