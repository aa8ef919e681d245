"""Review 18: a restore link is never "spent". Its basket is copied, never handed over, so ordering the copy (the
flow the link exists for: the e-mail opened in another browser, the basket ordered there) leaves the link's own
basket open, and the same link, opened again (a second click in the e-mail, a reminder e-mail of the automation),
says "Welcome back: your basket is as you left it." and puts the products just bought back in a basket.
docs/carts.rst: "A link ... whose basket was ordered since, says so"."""
import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory
from shuup.core.basket import get_basket, get_basket_order_creator
from shuup.core.models import MutableAddress
from shuup.testing.factories import get_default_payment_method, get_default_shipping_method, get_initial_order_status
from shuup.testing.utils import apply_request_middleware
from shuup.xtheme import set_current_theme

from shoop_mailchimp import cart_links
from shoop_mailchimp.storefront import views
from tests.cart_helpers import STOREFRONT, add, basket_of, products, shopper, stored
from tests.storefront.helpers import page_messages

pytestmark = pytest.mark.django_db

EMAIL = "again.anna@fastmail.com"


def order_in(browser):
    """The browser's basket ordered through Shuup's order creator, as its checkout does."""
    request = apply_request_middleware(RequestFactory().get("/checkout/"))
    request.session = SessionStore(session_key=browser.session.session_key)
    basket = get_basket(request)
    basket.shipping_method = get_default_shipping_method()
    basket.payment_method = get_default_payment_method()
    basket.status = get_initial_order_status()
    basket.billing_address = basket.shipping_address = MutableAddress(
        name="Anna", email=EMAIL, street="Main Street 1", city="Helsinki", postal_code="00100", country="FI")
    order = get_basket_order_creator().create_order(basket)
    basket.finalize()
    return order


def test_a_link_whose_basket_was_ordered_from_its_copy_says_so(shop, cart_settings):
    set_current_theme("shuup.themes.classic_gray", shop)
    user, person = shopper(email=EMAIL)
    basket = basket_of(shop, user)
    [product] = products(shop)
    add(basket, shop, product, quantity=2)
    link = cart_links.restore_url(stored(basket))[len(STOREFRONT):]

    phone = Client()
    phone.get(link)
    assert order_in(phone).lines.filter(product=product).exists()

    again = Client()
    page = again.get(link, follow=True)
    shown = page_messages(page)
    assert str(views.CART_RESTORED) not in shown and str(views.CART_GONE) in shown, shown
    assert product.name not in page.content.decode(), "the products just bought are back in a basket"
