"""What Mailchimp is told a product can be sold as: products the storefront cannot sell (no enabled supplier) are
not recommended as visible and in stock; products sold on backorder or by a supplier that counts no stock are not
sold out."""
import pytest
from shuup.core.models import Supplier
from shuup.testing.factories import create_product, get_default_supplier

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def sent_variant(emulator, api_key, configuration, product):
    [sent] = [p for p in emulator.products(api_key, configuration.store_id) if p["id"] == str(product.pk)]
    return sent["variants"][0]


def test_a_product_left_without_supplier_is_not_a_visible_variant_in_stock(shop, configuration, mailchimp_account):
    """Every supplier taken off a shop product: Shuup's product page says "The product has no supplier" and
    nobody can buy it (ShopProduct.get_supplier_errors), and Shuup's listings leave it out. Mailchimp still has
    it visible with 1,000,000 in stock, so product blocks and recommendations keep offering a product that
    cannot be bought."""
    emulator, api_key, _ = mailchimp_account
    product = create_product("orphan", shop=shop, supplier=get_default_supplier(), default_price=10)
    assert sent_variant(emulator, api_key, configuration, product)["visibility"] == "visible"
    shop_product = product.get_shop_instance(shop)
    shop_product.suppliers.clear()
    shop_product.save()
    variant = sent_variant(emulator, api_key, configuration, product)
    assert variant["visibility"] == "hidden" or variant["inventory_quantity"] == 0, variant


def test_a_product_whose_only_supplier_is_disabled_is_not_a_visible_variant_in_stock(shop, configuration,
                                                                                      mailchimp_account):
    """The shop disables its only vendor (Suppliers > edit > Enabled off): none of its products can be ordered
    (no enabled supplier) nor are listed, but Mailchimp keeps recommending them as visible and in stock."""
    emulator, api_key, _ = mailchimp_account
    supplier = Supplier.objects.create(identifier="vendor-x", name="Vendor X", enabled=True)
    supplier.shops.add(shop)
    product = create_product("vendor-x-mug", shop=shop, supplier=supplier, default_price=10)
    assert sent_variant(emulator, api_key, configuration, product)["visibility"] == "visible"
    supplier.enabled = False
    supplier.save()
    product.get_shop_instance(shop).save()  # even a save of the product afterwards
    variant = sent_variant(emulator, api_key, configuration, product)
    assert variant["visibility"] == "hidden" or variant["inventory_quantity"] == 0, variant


def test_a_supplier_disabled_hides_its_products_without_a_product_save(shop, configuration, mailchimp_account):
    """Disabling the supplier (its admin form saves the supplier only) queues its products: they go hidden; enabled
    again, they are visible again."""
    emulator, api_key, _ = mailchimp_account
    supplier = Supplier.objects.create(identifier="vendor-y", name="Vendor Y", enabled=True)
    supplier.shops.add(shop)
    product = create_product("vendor-y-mug", shop=shop, supplier=supplier, default_price=10)
    assert sent_variant(emulator, api_key, configuration, product)["visibility"] == "visible"
    supplier.enabled = False
    supplier.save()
    assert sent_variant(emulator, api_key, configuration, product)["visibility"] == "hidden"
    supplier = Supplier.objects.get(pk=supplier.pk)
    supplier.enabled = True
    supplier.save()
    assert sent_variant(emulator, api_key, configuration, product)["visibility"] == "visible"
