"""Review 18: the restore link of a basket its shopper emptied (the lines removed one by one, as Shuup's basket
page does: the stored basket stays, with no lines) greets the visitor with "Welcome back: your basket is as you
left it." over an empty basket. The view has the message for it (CART_GONE: "This basket was ordered or emptied
since the link was sent"), and docs/carts.rst promises a link whose basket is gone says so."""
import pytest
from django.test import Client
from shuup.front.models import StoredBasket
from shuup.xtheme import set_current_theme

from shoop_mailchimp import cart_links
from shoop_mailchimp.storefront import views
from tests.cart_helpers import STOREFRONT, products, shopper
from tests.storefront.helpers import page_messages

pytestmark = pytest.mark.django_db


def test_the_link_of_an_emptied_basket_says_it_was_emptied(shop, cart_settings):
    set_current_theme("shuup.themes.classic_gray", shop)
    user, person = shopper(email="empty.emma@fastmail.com")
    [product] = products(shop)
    owner = Client()
    owner.force_login(user)
    owner.post("/basket/", {"command": "add", "product_id": product.pk, "quantity": 2})
    basket = StoredBasket.objects.get(pk=owner.session["basket_basket_key"]["pk"])
    link = cart_links.restore_url(basket)[len(STOREFRONT):]  # the link the cart carried to Mailchimp

    [line] = basket.data["lines"]
    owner.post("/basket/", {"command": "update", "delete_%s" % line["line_id"]: "1"})  # the remove button
    basket.refresh_from_db()
    assert not basket.data["lines"] and not basket.deleted

    page = Client().get(link, follow=True)
    shown = page_messages(page)
    assert str(views.CART_RESTORED) not in shown, "an empty basket is not 'as you left it'"
    assert str(views.CART_GONE) in shown
