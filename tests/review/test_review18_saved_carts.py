"""Review 18: a basket the shopper *saved* under a title (Shuup's saved carts, ``StoredBasket.persistent``) is a
list kept on purpose, not an abandoned basket. It must not become a Mailchimp cart (an abandoned-cart e-mail for
a wish list), and it must not take the "one cart per shopper" slot of the basket the shopper is actually
filling."""
import pytest
from django.test import Client
from shuup.front.models import StoredBasket
from shuup.xtheme import set_current_theme

from shoop_mailchimp.sync.drainer import drain
from tests.cart_helpers import products, shopper
from tests.helpers import make_all_due

pytestmark = pytest.mark.django_db(transaction=True)


def send_due_carts():
    make_all_due()
    return drain()


def test_a_saved_cart_is_no_abandoned_cart_and_leaves_the_live_baskets_cart_alone(shop, cart_settings,
                                                                                   mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    set_current_theme("shuup.themes.classic_gray", shop)
    user, person = shopper(email="saver.sue@fastmail.com")
    first, second = products(shop, 2)
    browser = Client()
    browser.force_login(user)
    browser.post("/basket/", {"command": "add", "product_id": first.pk, "quantity": 1})
    live = browser.session["basket_basket_key"]["pk"]
    saved = browser.post("/saved-carts/save/", {"title": "Birthday list"})
    assert saved.status_code == 200 and saved.json()["ok"]
    [wish_list] = StoredBasket.objects.filter(persistent=True, customer=person)
    assert wish_list.pk != live

    send_due_carts()
    cart_ids = {cart["id"] for cart in emulator.carts(api_key, cart_settings.store_id)}
    assert str(wish_list.pk) not in cart_ids, "a saved cart (a list kept on purpose) is no abandoned cart"
    assert cart_ids == {str(live)}, "the basket being filled keeps its cart"

    # The shopper goes on filling the live basket: still one cart, the live one (two carts, two e-mails).
    browser.post("/basket/", {"command": "add", "product_id": second.pk, "quantity": 1})
    send_due_carts()
    assert {cart["id"] for cart in emulator.carts(api_key, cart_settings.store_id)} == {str(live)}
