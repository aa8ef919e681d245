"""End-to-end probes of issue 17 (catalogue, complete orders, promo rules and codes) through the emulator."""

import pytest
from django.test import Client
from django.urls import reverse
from shuup.core.models import OrderLineType, ProductVisibility
from shuup.core.order_creator import OrderCreator, OrderSource
from shuup.testing.factories import create_product, get_default_supplier, get_initial_order_status

from shoop_mailchimp.models import SyncState
from tests.helpers import five_off, new_person, sent_order, sent_product, stock_counting_supplier
from tests.storefront.helpers import page_messages

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def order_of(shop, product, customer, quantity=1, price=10):
    source = OrderSource(shop)
    source.status = get_initial_order_status()
    source.customer = customer
    source.add_line(type=OrderLineType.PRODUCT, product=product, supplier=get_default_supplier(), quantity=quantity,
                    base_unit_price=source.create_price(price))
    return OrderCreator().create_order(source)


def test_a_soft_deleted_variation_child_is_a_hidden_variant(shop, configuration, mailchimp_account):
    """A variation deleted in the admin must no longer be recommended: its variant goes hidden in Mailchimp."""
    emulator, api_key, _ = mailchimp_account
    parent = create_product("tee", shop=shop, supplier=get_default_supplier(), default_price=10)
    red = create_product("tee-red", shop=shop, supplier=get_default_supplier(), default_price=10)
    blue = create_product("tee-blue", shop=shop, supplier=get_default_supplier(), default_price=10)
    red.link_to_parent(parent)
    blue.link_to_parent(parent)
    red.soft_delete()
    variants = {v["id"]: v for v in sent_product(emulator, api_key, configuration, parent)["variants"]}
    assert variants[str(red.pk)]["visibility"] == "hidden"
    assert variants[str(blue.pk)]["visibility"] == "visible"


def test_a_stock_update_of_a_variation_reaches_its_parents_variant(shop, configuration, mailchimp_account):
    emulator, api_key, _ = mailchimp_account
    supplier = stock_counting_supplier()
    parent = create_product("cap", shop=shop, supplier=supplier, default_price=10)
    red = create_product("cap-red", shop=shop, supplier=supplier, default_price=10)
    red.link_to_parent(parent)
    supplier.adjust_stock(red.pk, 3)
    variants = {v["id"]: v for v in sent_product(emulator, api_key, configuration, parent)["variants"]}
    assert variants[str(red.pk)]["inventory_quantity"] == 3
    supplier.adjust_stock(red.pk, 4)
    variants = {v["id"]: v for v in sent_product(emulator, api_key, configuration, parent)["variants"]}
    assert variants[str(red.pk)]["inventory_quantity"] == 7


def test_an_order_of_a_product_the_storefront_hides_still_reaches_mailchimp(shop, configuration, mailchimp_account):
    """An admin order of a product shown only to logged-in customers (never sent): the product goes hidden first,
    the order is accepted (users' complaint #3: orders rejected because their product is missing)."""
    emulator, api_key, _ = mailchimp_account
    product = create_product("secret", shop=shop, supplier=get_default_supplier(), default_price=10)
    shop_product = product.get_shop_instance(shop)
    shop_product.visibility_limit = ProductVisibility.VISIBLE_TO_LOGGED_IN
    shop_product.save()
    assert sent_product(emulator, api_key, configuration, product) is None
    order = order_of(shop, product, new_person())
    sent = sent_order(emulator, api_key, configuration, order)
    assert sent is not None, [r.last_error for r in SyncState.objects.orders()]
    assert sent_product(emulator, api_key, configuration, product)["variants"][0]["visibility"] == "hidden"


def redemption_url(emulator, api_key, configuration, campaign):
    [rule] = [r for r in emulator.promo_rules(api_key, configuration.store_id) if r["id"] == str(campaign.pk)]
    return rule["promo_codes"][0]["redemption_url"]


def test_the_redemption_link_from_an_empty_basket_keeps_the_code_for_the_products_added_after(
        shop, configuration, mailchimp_account):
    """A subscriber clicks the e-mail's button with an empty basket, then shops: the discount must apply."""
    emulator, api_key, _ = mailchimp_account
    campaign = five_off(shop, "FIVE")
    url = redemption_url(emulator, api_key, configuration, campaign)
    client = Client()
    response = client.get(url.split(shop.domain, 1)[1])
    assert response.status_code == 302
    product = create_product("redeem-later", shop=shop, supplier=get_default_supplier(), default_price=20)
    client.post(reverse("shuup:basket"), {"command": "add", "product_id": product.pk, "quantity": 1})
    basket = client.get(reverse("shuup:basket"))
    assert "Five off" in basket.content.decode()


@pytest.mark.parametrize("code", ["50% OFF", "A+B&C=D", "ÄLÄ#1", "x?y/z"])
def test_the_redemption_link_of_a_code_with_special_characters_applies_it(shop, configuration, mailchimp_account,
                                                                         code):
    emulator, api_key, _ = mailchimp_account
    campaign = five_off(shop, code)
    url = redemption_url(emulator, api_key, configuration, campaign)
    client = Client()
    product = create_product("redeem-sp", shop=shop, supplier=get_default_supplier(), default_price=20)
    client.post(reverse("shuup:basket"), {"command": "add", "product_id": product.pk, "quantity": 1})
    response = client.get(url.split(shop.domain, 1)[1])
    page = client.get(response["Location"])
    assert any("is in your basket" in message for message in page_messages(page)), page_messages(page)
    assert "Five off" in page.content.decode()
