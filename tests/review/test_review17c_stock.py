"""review17c: the stock Mailchimp gets when the supplier's *Stock managed* is switched in the admin."""
import pytest
from shuup.core.models import AnonymousContact
from shuup.simple_supplier.models import StockCount
from shuup.testing.factories import create_product, get_default_supplier

pytestmark = pytest.mark.django_db(transaction=True)


def sent_stock(emulator, api_key, configuration, product):
    sent = next(p for p in emulator.products(api_key, configuration.store_id) if p["id"] == str(product.pk))
    [variant] = sent["variants"]
    return variant["inventory_quantity"]


def test_a_supplier_that_starts_counting_stock_sends_its_sold_out_products_again(shop, configuration,
                                                                                mailchimp_account):
    """Suppliers > edit > *Stock managed* ticked: Shuup now sells only what is counted, and the sold out
    product can no longer be ordered; Mailchimp keeps 1,000,000 in stock and goes on recommending it."""
    emulator, api_key, _list_id = mailchimp_account
    supplier = get_default_supplier()
    assert not supplier.stock_managed
    product = create_product("kettle", shop=shop, supplier=supplier, default_price=10)
    StockCount.objects.bulk_create([StockCount(supplier=supplier, product=product, logical_count=0,
                                               physical_count=0)])  # counted, sold out
    product.save()
    assert sent_stock(emulator, api_key, configuration, product) == 1000000
    supplier.stock_managed = True
    supplier.save()  # as the supplier's admin form saves it
    shop_product = product.get_shop_instance(shop)
    assert not shop_product.is_orderable(supplier=supplier, customer=AnonymousContact(), quantity=1)
    assert sent_stock(emulator, api_key, configuration, product) == 0
