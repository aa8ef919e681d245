"""A product Mailchimp got through an order (sent first so that the order is accepted) must follow the shop."""
import pytest
from shuup.core.models import ShopProductVisibility
from shuup.testing.factories import create_product, get_default_supplier

from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.models import MailchimpConfiguration
from tests.helpers import new_person, place_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def products_of(emulator, api_key, configuration):
    return {p["id"]: p for p in emulator.products(api_key, configuration.store_id)}


def test_a_product_first_sent_with_an_order_and_then_hidden_is_hidden_in_mailchimp(shop, fresh_configuration,
                                                                            mailchimp_account):
    """A product made before the shop was connected (no *Sync existing* yet) reaches Mailchimp when an order
    names it. The merchant then hides it: Mailchimp keeps it (an order names it) but hidden and out of stock, not
    recommending it as visible and in stock."""
    emulator, api_key, _ = mailchimp_account
    product = create_product("legacy-vase", shop=shop, supplier=get_default_supplier(), default_price=8)
    initialize(fresh_configuration)
    configuration = MailchimpConfiguration.objects.get(pk=fresh_configuration.pk)
    order, _products = place_order(shop, new_person())
    # The order above names new products; now one naming the legacy product.
    from shuup.testing.factories import create_random_order
    create_random_order(customer=new_person(), products=[product], shop=shop, random_products=False)
    assert products_of(emulator, api_key, configuration)[str(product.pk)]["variants"][0]["visibility"] == "visible"
    shop_product = product.get_shop_instance(shop)
    shop_product.visibility = ShopProductVisibility.NOT_VISIBLE
    shop_product.save()
    sent = products_of(emulator, api_key, configuration).get(str(product.pk))
    # An order names it: it stays, its variant hidden and out of stock (Mailchimp refuses an order naming a product
    # the store lacks).
    assert sent is not None, "deleted though an order names it"
    assert [(v["visibility"], v["inventory_quantity"]) for v in sent["variants"]] == [("hidden", 0)], sent["variants"]
