"""review18d: a restore link whose basket names a product that is no longer sold in the shop (its shop product
removed, as a multi-shop catalogue does; Shuup's own saved-cart "add all" and basket handle it) answers 500: the
view copies the line through ``basket.update_line``, whose price caching asks for the shop product. The visitor
should land on their basket page with the products that can still be copied."""
import pytest
from django.test import Client
from shuup.core.models import ShopProduct
from shuup.xtheme import set_current_theme

from shoop_mailchimp import cart_links
from tests.cart_helpers import STOREFRONT, add, basket_of, products, shopper, stored

pytestmark = pytest.mark.django_db


def test_a_link_naming_a_product_no_longer_in_the_shop_still_restores_the_others(shop, cart_settings):
    set_current_theme("shuup.themes.classic_gray", shop)
    user, person = shopper(email="gone.product@fastmail.com")
    basket = basket_of(shop, user)
    kept, removed = products(shop, 2)
    add(basket, shop, kept)
    add(basket, shop, removed)
    holder = stored(basket)
    ShopProduct.objects.filter(shop=shop, product=removed).delete()

    browser = Client()
    response = browser.get(cart_links.restore_url(holder)[len(STOREFRONT):])
    assert response.status_code == 302, response.status_code
    copy = browser.session.get("basket_basket_key")
    assert copy and copy["pk"] != holder.pk
