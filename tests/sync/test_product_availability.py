"""What Mailchimp is told a product can be sold as: products the storefront cannot sell (no enabled supplier) are
not recommended as visible and in stock; products sold on backorder or by a supplier that counts no stock are not
sold out."""
import pytest
from django.db import transaction
from shuup.core.models import Supplier
from shuup.testing.factories import create_product, get_default_supplier

from tests.helpers import stock_counting_supplier

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def sent_variant(emulator, api_key, configuration, product):
    [sent] = [p for p in emulator.products(api_key, configuration.store_id) if p["id"] == str(product.pk)]
    return sent["variants"][0]


def assert_not_offered(emulator, api_key, configuration, product):
    """Mailchimp offers the product no more: hidden, with a stock of 0 (docs/products.rst, Visibility)."""
    variant = sent_variant(emulator, api_key, configuration, product)
    assert (variant["visibility"], variant["inventory_quantity"]) == ("hidden", 0), variant


def offered_product(shop, emulator, api_key, configuration, sku, supplier=None):
    """A product of ``supplier`` (the shop's default supplier if none) that Mailchimp has as visible."""
    product = create_product(sku, shop=shop, supplier=supplier or get_default_supplier(), default_price=10)
    assert sent_variant(emulator, api_key, configuration, product)["visibility"] == "visible"
    return product


def shop_vendor(shop, identifier, name):
    """An enabled supplier of the shop."""
    supplier = Supplier.objects.create(identifier=identifier, name=name, enabled=True)
    supplier.shops.add(shop)
    return supplier


def counted_at_zero(supplier, product):
    """The supplier counts the product's stock and has none left (one in, one out)."""
    supplier.adjust_stock(product.pk, 1)
    supplier.adjust_stock(product.pk, -1)


def sold_by_two_suppliers(shop, seller, sku, warehouse_identifier):
    """A product whose page supplier (Shuup's first enabled one) is ``seller``; a stock-counting warehouse supplies it
    too. Returns the product, its shop product and the warehouse."""
    from shuup.testing.factories import get_supplier

    warehouse = get_supplier("simple_supplier", shop=shop, name="Warehouse", identifier=warehouse_identifier,
                             stock_managed=True)
    product = create_product(sku, shop=shop, supplier=seller, default_price=10)
    shop_product = product.get_shop_instance(shop)
    shop_product.suppliers.add(warehouse)
    assert shop_product.get_supplier() == seller
    return product, shop_product, warehouse


def _order(shop, product, supplier, quantity):
    from shuup.core.models import OrderLineType
    from shuup.core.order_creator import OrderCreator, OrderSource
    from shuup.testing.factories import get_initial_order_status

    from tests.helpers import new_person

    source = OrderSource(shop)
    source.status = get_initial_order_status()
    source.customer = new_person()
    source.add_line(type=OrderLineType.PRODUCT, product=product, supplier=supplier, quantity=quantity,
                    base_unit_price=source.create_price(10))
    return OrderCreator().create_order(source)


def test_a_product_left_without_supplier_is_not_a_visible_variant_in_stock(shop, configuration, mailchimp_account):
    """Every supplier taken off a shop product: Shuup's product page says "The product has no supplier" and
    nobody can buy it (ShopProduct.get_supplier_errors), and Shuup's listings leave it out. Mailchimp still has
    it visible with 1,000,000 in stock, so product blocks and recommendations keep offering a product that
    cannot be bought."""
    emulator, api_key, _ = mailchimp_account
    product = offered_product(shop, emulator, api_key, configuration, "orphan")
    shop_product = product.get_shop_instance(shop)
    shop_product.suppliers.clear()
    shop_product.save()
    assert_not_offered(emulator, api_key, configuration, product)


def test_a_product_whose_only_supplier_is_disabled_is_not_a_visible_variant_in_stock(shop, configuration,
                                                                                      mailchimp_account):
    """The shop disables its only vendor (Suppliers > edit > Enabled off): none of its products can be ordered
    (no enabled supplier) nor are listed, but Mailchimp keeps recommending them as visible and in stock."""
    emulator, api_key, _ = mailchimp_account
    supplier = shop_vendor(shop, "vendor-x", "Vendor X")
    product = offered_product(shop, emulator, api_key, configuration, "vendor-x-mug", supplier)
    supplier.enabled = False
    supplier.save()
    product.get_shop_instance(shop).save()  # even a save of the product afterwards
    assert_not_offered(emulator, api_key, configuration, product)


def test_a_supplier_disabled_hides_its_products_without_a_product_save(shop, configuration, mailchimp_account):
    """Disabling the supplier (its admin form saves the supplier only) queues its products: they go hidden; enabled
    again, they are visible again."""
    emulator, api_key, _ = mailchimp_account
    supplier = shop_vendor(shop, "vendor-y", "Vendor Y")
    product = offered_product(shop, emulator, api_key, configuration, "vendor-y-mug", supplier)
    supplier.enabled = False
    supplier.save()
    assert sent_variant(emulator, api_key, configuration, product)["visibility"] == "hidden"
    supplier = Supplier.objects.get(pk=supplier.pk)
    supplier.enabled = True
    supplier.save()
    assert sent_variant(emulator, api_key, configuration, product)["visibility"] == "visible"


def test_a_product_sold_on_backorder_is_not_sold_out_in_mailchimp(shop, configuration, mailchimp_account):
    """Stock counted at 0, backorder maximum left blank (Shuup: "unlimited backorders"): the storefront keeps
    selling it (an order of 3 is accepted below), yet Mailchimp gets inventory 0 with no ``backorders``: it takes
    the product for sold out and leaves it out of recommendations and product blocks. The addon itself sends
    1,000,000 for products whose stock nobody counts so that Mailchimp "never takes it for sold out"."""
    emulator, api_key, _ = mailchimp_account
    supplier = stock_counting_supplier()
    product = create_product("preorder-lamp", shop=shop, supplier=supplier, default_price=10)
    shop_product = product.get_shop_instance(shop)
    shop_product.backorder_maximum = None
    shop_product.save()
    counted_at_zero(supplier, product)
    # The shop sells it all the same.
    errors = list(shop_product.get_orderability_errors(supplier=supplier, quantity=3, customer=None))
    assert not errors, errors
    _order(shop, product, supplier, 3)
    variant = sent_variant(emulator, api_key, configuration, product)
    assert variant["visibility"] == "visible" and variant["backorders"] == "true"
    assert variant["inventory_quantity"] > 0 or variant.get("backorders") not in ("", None, "0", "false"), variant


def test_a_product_the_pages_supplier_sells_without_counting_is_not_sold_out(shop, configuration,
                                                                            mailchimp_account):
    """Two suppliers: the product page's (Shuup's first enabled supplier) does not count stock and sells
    without limit; a second one counts stock and has none. The storefront sells the product, but Mailchimp
    gets inventory 0 (only counting suppliers are summed) and takes it for sold out."""
    emulator, api_key, _ = mailchimp_account
    seller = get_default_supplier()  # does not count stock (Shuup's default)
    product, shop_product, warehouse = sold_by_two_suppliers(shop, seller, "two-suppliers", "warehouse")
    counted_at_zero(warehouse, product)
    assert not list(shop_product.get_orderability_errors(supplier=seller, quantity=5, customer=None))
    variant = sent_variant(emulator, api_key, configuration, product)
    assert variant["inventory_quantity"] > 0, variant


def test_a_limited_backorder_maximum_adds_to_the_stock(shop, configuration, mailchimp_account):
    """A backorder maximum of 4 with 1 in stock: the shop sells 5."""
    emulator, api_key, _ = mailchimp_account
    supplier = stock_counting_supplier()
    product = create_product("few-lamps", shop=shop, supplier=supplier, default_price=10)
    supplier.adjust_stock(product.pk, 1)
    assert sent_variant(emulator, api_key, configuration, product)["inventory_quantity"] == 1
    shop_product = product.get_shop_instance(shop)
    shop_product.backorder_maximum = 4
    shop_product.save()
    variant = sent_variant(emulator, api_key, configuration, product)
    assert (variant["inventory_quantity"], variant["backorders"]) == (5, "true"), variant


def test_backorders_already_taken_are_not_counted_again_as_inventory(shop, configuration, mailchimp_account):
    """Stock 0, backorder maximum 4 (Shuup sells up to logical count + backorder maximum). Three are ordered on
    backorder: the logical count is -3 and the storefront sells only 1 more. Mailchimp is told 4 in stock
    (max(0, count) + backorder maximum in Catalogue._stock_of): product blocks keep offering 4; after a fourth
    sale (nothing left to sell) it still says 4, visible."""
    emulator, api_key, _ = mailchimp_account
    supplier = stock_counting_supplier()
    product = create_product("backorder-lamp", shop=shop, supplier=supplier, default_price=10)
    shop_product = product.get_shop_instance(shop)
    shop_product.backorder_maximum = 4
    shop_product.save()
    counted_at_zero(supplier, product)
    _order(shop, product, supplier, 3)
    shop_product.refresh_from_db()
    assert not list(shop_product.get_orderability_errors(supplier=supplier, quantity=1, customer=None))
    assert list(shop_product.get_orderability_errors(supplier=supplier, quantity=2, customer=None))
    variant = sent_variant(emulator, api_key, configuration, product)
    assert variant["inventory_quantity"] == 1, variant


def test_another_suppliers_stock_is_not_the_page_suppliers(shop, configuration, mailchimp_account):
    """Two suppliers counting stock: the product page's (Shuup's first enabled supplier, the one the storefront
    sells it with) has none and takes no backorders, so the page refuses every purchase; a second supplier has
    10. Mailchimp is told 10 in stock (Catalogue._stock sums every counting supplier of the shop, though
    _stock_of says it follows the page's supplier): product blocks offer a product nobody can buy."""
    emulator, api_key, _ = mailchimp_account
    seller = stock_counting_supplier()
    product, shop_product, warehouse = sold_by_two_suppliers(shop, seller, "page-seller-empty", "warehouse2")
    counted_at_zero(seller, product)
    warehouse.adjust_stock(product.pk, 10)
    shop_product.refresh_from_db()
    assert list(shop_product.get_orderability_errors(supplier=shop_product.get_supplier(), quantity=1,
                                                     customer=None))
    variant = sent_variant(emulator, api_key, configuration, product)
    assert variant["inventory_quantity"] == 0, variant


def assert_hidden_when_its_supplier_goes(shop, configuration, mailchimp_account, sku, take_the_supplier_away):
    """A product of the shop's default supplier, visible in Mailchimp; ``take_the_supplier_away(supplier)`` leaves
    it with no supplier in the shop (nobody can buy it), and two rounds later Mailchimp offers it no more: hidden,
    or none in stock."""
    from shoop_mailchimp.sync.rounds import run_due_work
    from tests.helpers import make_all_due

    emulator, api_key, _ = mailchimp_account
    supplier = get_default_supplier()
    product = offered_product(shop, emulator, api_key, configuration, sku, supplier)
    take_the_supplier_away(supplier)
    assert product.get_shop_instance(shop).get_supplier() is None
    for _ in range(2):
        make_all_due()
        run_due_work()
    assert_not_offered(emulator, api_key, configuration, product)


def test_a_supplier_deleted_in_the_admin_hides_its_products(shop, configuration, mailchimp_account):
    """Suppliers > Delete (Shuup's SupplierDeleteView: supplier.soft_delete(), a save of ``deleted`` alone). The
    product's only supplier is gone: Shuup's page has no supplier and nobody can buy it, and a product save
    now would send it hidden. But only enabled/disabled is watched (receivers/stock.supplier_saved): Mailchimp
    keeps the product visible and in stock in product blocks and recommendations."""
    assert_hidden_when_its_supplier_goes(shop, configuration, mailchimp_account, "deleted-supplier",
                                         lambda supplier: supplier.soft_delete())


def test_a_supplier_unapproved_for_the_shop_hides_its_products(shop, configuration, mailchimp_account):
    """Suppliers > edit > untick "Approved" (Shuup's SupplierBaseForm saves the supplier, then
    SupplierShop.objects.filter(...).update(is_approved=False)). Shuup's Supplier.objects.enabled(shop) leaves it
    out, so the product has no supplier there and cannot be bought; Mailchimp keeps it visible and in stock."""
    from shuup.core.models import SupplierShop

    def unapprove(supplier):
        with transaction.atomic():  # the supplier edit view's form_valid is atomic: Shuup's form saves, then updates
            supplier.save()
            SupplierShop.objects.filter(shop=shop, supplier=supplier).update(is_approved=False)

    assert_hidden_when_its_supplier_goes(shop, configuration, mailchimp_account, "unapproved-supplier", unapprove)


def test_a_supplier_taken_out_of_the_shop_hides_its_products(shop, configuration, mailchimp_account):
    """Suppliers > edit > Shops: the shop unticked (supplier.shops.remove). Shuup's Supplier.objects.enabled(shop)
    no longer has it, the product page has no supplier and nobody can buy it. receivers/stock.supplier_shops_changed
    queues only the products of a supplier that manages stock (off by default): Mailchimp keeps the product
    visible, 1,000,000 in stock."""
    assert not get_default_supplier().stock_managed
    assert_hidden_when_its_supplier_goes(shop, configuration, mailchimp_account, "supplier-left-shop",
                                         lambda supplier: supplier.shops.remove(shop))
