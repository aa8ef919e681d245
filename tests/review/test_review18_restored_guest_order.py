"""Review 18: the restore link's promise is "no login needed": a customer who opens their abandoned-cart e-mail
on another device (a phone: no session, not logged in) gets the basket and orders it there as a guest, with
their own e-mail address. The cart of their logged-in basket stays in Mailchimp, and the abandoned-cart
automation goes on mailing them about products they bought: the order names neither their contact nor the
address typed in that basket (a logged-in shopper types none), which is all ``ordered_since`` compares."""
import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory
from shuup.core.basket import get_basket, get_basket_order_creator
from shuup.core.models import MutableAddress
from shuup.testing.factories import (
    get_default_payment_method,
    get_default_shipping_method,
    get_initial_order_status,
)
from shuup.testing.utils import apply_request_middleware
from shuup.xtheme import set_current_theme

from shoop_mailchimp import cart_links
from shoop_mailchimp.sync.drainer import drain
from tests.cart_helpers import STOREFRONT, add, basket_of, products, shopper, stored
from tests.helpers import make_all_due

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "phone.paula@fastmail.com"


def send_due_carts():
    make_all_due()
    return drain()


def test_the_customers_own_guest_order_from_the_restored_basket_ends_their_cart(shop, cart_settings,
                                                                                 mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    set_current_theme("shuup.themes.classic_gray", shop)
    user, person = shopper(email=EMAIL)
    basket = basket_of(shop, user)
    [product] = products(shop)
    add(basket, shop, product, quantity=2)
    send_due_carts()
    holder = stored(basket)
    [cart] = emulator.carts(api_key, cart_settings.store_id)
    assert cart["id"] == str(holder.pk)

    phone = Client()  # the e-mail opened on another device: not logged in
    assert phone.get(cart["checkout_url"][len(STOREFRONT):]).status_code == 302
    request = apply_request_middleware(RequestFactory().get("/checkout/"))
    request.session = SessionStore(session_key=phone.session.session_key)
    copy = get_basket(request)
    assert copy._get_value_from_data(cart_links.RESTORED_FROM) == holder.pk
    copy.shipping_method = get_default_shipping_method()
    copy.payment_method = get_default_payment_method()
    copy.status = get_initial_order_status()
    copy.billing_address = copy.shipping_address = MutableAddress(
        name="Paula Phone", email=EMAIL, street="Main Street 1", city="Helsinki", postal_code="00100", country="FI")
    order = get_basket_order_creator().create_order(copy)  # Shuup's checkout
    copy.finalize()
    assert order.customer_id is None and order.email == EMAIL

    send_due_carts()
    assert str(holder.pk) not in {c["id"] for c in emulator.carts(api_key, cart_settings.store_id)}, \
        "the customer ordered the restored basket: Mailchimp must stop mailing them its abandoned-cart e-mails"
