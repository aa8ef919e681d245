"""What Mailchimp is told a product can be sold as: products the storefront cannot sell (no enabled supplier) are
not recommended as visible and in stock; products sold on backorder or by a supplier that counts no stock are not
sold out."""
import pytest
from django.db import transaction
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


def test_a_product_sold_on_backorder_is_not_sold_out_in_mailchimp(shop, configuration, mailchimp_account):
    """Stock counted at 0, backorder maximum left blank (Shuup: "unlimited backorders"): the storefront keeps
    selling it (an order of 3 is accepted below), yet Mailchimp gets inventory 0 with no ``backorders``: it takes
    the product for sold out and leaves it out of recommendations and product blocks. The addon itself sends
    1,000,000 for products whose stock nobody counts so that Mailchimp "never takes it for sold out"."""
    from shuup.core.models import OrderLineType
    from shuup.core.order_creator import OrderCreator, OrderSource
    from shuup.testing.factories import get_initial_order_status

    from tests.helpers import new_person

    emulator, api_key, _ = mailchimp_account
    supplier = get_default_supplier()
    supplier.stock_managed = True
    supplier.save()
    product = create_product("preorder-lamp", shop=shop, supplier=supplier, default_price=10)
    shop_product = product.get_shop_instance(shop)
    shop_product.backorder_maximum = None
    shop_product.save()
    supplier.adjust_stock(product.pk, 1)
    supplier.adjust_stock(product.pk, -1)
    # The shop sells it all the same.
    errors = list(shop_product.get_orderability_errors(supplier=supplier, quantity=3, customer=None))
    assert not errors, errors
    source = OrderSource(shop)
    source.status = get_initial_order_status()
    source.customer = new_person()
    source.add_line(type=OrderLineType.PRODUCT, product=product, supplier=supplier, quantity=3,
                    base_unit_price=source.create_price(10))
    OrderCreator().create_order(source)
    variant = sent_variant(emulator, api_key, configuration, product)
    assert variant["visibility"] == "visible" and variant["backorders"] == "true"
    assert variant["inventory_quantity"] > 0 or variant.get("backorders") not in ("", None, "0", "false"), variant


def test_a_product_the_pages_supplier_sells_without_counting_is_not_sold_out(shop, configuration,
                                                                            mailchimp_account):
    """Two suppliers: the product page's (Shuup's first enabled supplier) does not count stock and sells
    without limit; a second one counts stock and has none. The storefront sells the product, but Mailchimp
    gets inventory 0 (only counting suppliers are summed) and takes it for sold out."""
    from shuup.testing.factories import get_supplier

    emulator, api_key, _ = mailchimp_account
    seller = get_default_supplier()  # does not count stock (Shuup's default)
    warehouse = get_supplier("simple_supplier", shop=shop, name="Warehouse", identifier="warehouse",
                             stock_managed=True)
    product = create_product("two-suppliers", shop=shop, supplier=seller, default_price=10)
    shop_product = product.get_shop_instance(shop)
    shop_product.suppliers.add(warehouse)
    assert shop_product.get_supplier() == seller
    warehouse.adjust_stock(product.pk, 1)
    warehouse.adjust_stock(product.pk, -1)
    assert not list(shop_product.get_orderability_errors(supplier=seller, quantity=5, customer=None))
    variant = sent_variant(emulator, api_key, configuration, product)
    assert variant["inventory_quantity"] > 0, variant


def test_a_limited_backorder_maximum_adds_to_the_stock(shop, configuration, mailchimp_account):
    """A backorder maximum of 4 with 1 in stock: the shop sells 5."""
    emulator, api_key, _ = mailchimp_account
    supplier = get_default_supplier()
    supplier.stock_managed = True
    supplier.save()
    product = create_product("few-lamps", shop=shop, supplier=supplier, default_price=10)
    supplier.adjust_stock(product.pk, 1)
    assert sent_variant(emulator, api_key, configuration, product)["inventory_quantity"] == 1
    shop_product = product.get_shop_instance(shop)
    shop_product.backorder_maximum = 4
    shop_product.save()
    variant = sent_variant(emulator, api_key, configuration, product)
    assert (variant["inventory_quantity"], variant["backorders"]) == (5, "true"), variant


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


def test_backorders_already_taken_are_not_counted_again_as_inventory(shop, configuration, mailchimp_account):
    """Stock 0, backorder maximum 4 (Shuup sells up to logical count + backorder maximum). Three are ordered on
    backorder: the logical count is -3 and the storefront sells only 1 more. Mailchimp is told 4 in stock
    (max(0, count) + backorder maximum in Catalogue._stock_of): product blocks keep offering 4; after a fourth
    sale (nothing left to sell) it still says 4, visible."""
    emulator, api_key, _ = mailchimp_account
    supplier = get_default_supplier()
    supplier.stock_managed = True
    supplier.save()
    product = create_product("backorder-lamp", shop=shop, supplier=supplier, default_price=10)
    shop_product = product.get_shop_instance(shop)
    shop_product.backorder_maximum = 4
    shop_product.save()
    supplier.adjust_stock(product.pk, 1)
    supplier.adjust_stock(product.pk, -1)
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
    from shuup.testing.factories import get_supplier

    emulator, api_key, _ = mailchimp_account
    seller = get_default_supplier()
    seller.stock_managed = True
    seller.save()
    warehouse = get_supplier("simple_supplier", shop=shop, name="Warehouse", identifier="warehouse2",
                             stock_managed=True)
    product = create_product("page-seller-empty", shop=shop, supplier=seller, default_price=10)
    shop_product = product.get_shop_instance(shop)
    shop_product.suppliers.add(warehouse)
    assert shop_product.get_supplier() == seller
    seller.adjust_stock(product.pk, 1)
    seller.adjust_stock(product.pk, -1)
    warehouse.adjust_stock(product.pk, 10)
    shop_product.refresh_from_db()
    assert list(shop_product.get_orderability_errors(supplier=shop_product.get_supplier(), quantity=1,
                                                     customer=None))
    variant = sent_variant(emulator, api_key, configuration, product)
    assert variant["inventory_quantity"] == 0, variant


def assert_not_offered_after_two_rounds(emulator, api_key, configuration, product):
    """Two rounds later Mailchimp offers the product no more: hidden, or none in stock."""
    from shoop_mailchimp.sync.rounds import run_due_work
    from tests.helpers import make_all_due

    for _ in range(2):
        make_all_due()
        run_due_work()
    variant = sent_variant(emulator, api_key, configuration, product)
    assert variant["visibility"] == "hidden" or variant["inventory_quantity"] == 0, variant


def test_a_supplier_deleted_in_the_admin_hides_its_products(shop, configuration, mailchimp_account):
    """Suppliers > Delete (Shuup's SupplierDeleteView: supplier.soft_delete(), a save of ``deleted`` alone). The
    product's only supplier is gone: Shuup's page has no supplier and nobody can buy it, and a product save
    now would send it hidden. But only enabled/disabled is watched (receivers/stock.supplier_saved): Mailchimp
    keeps the product visible and in stock in product blocks and recommendations."""
    emulator, api_key, _ = mailchimp_account
    supplier = get_default_supplier()
    product = create_product("deleted-supplier", shop=shop, supplier=supplier, default_price=10)
    assert sent_variant(emulator, api_key, configuration, product)["visibility"] == "visible"
    supplier.soft_delete()
    assert product.get_shop_instance(shop).get_supplier() is None
    assert_not_offered_after_two_rounds(emulator, api_key, configuration, product)


def test_a_supplier_unapproved_for_the_shop_hides_its_products(shop, configuration, mailchimp_account):
    """Suppliers > edit > untick "Approved" (Shuup's SupplierBaseForm saves the supplier, then
    SupplierShop.objects.filter(...).update(is_approved=False)). Shuup's Supplier.objects.enabled(shop) leaves it
    out, so the product has no supplier there and cannot be bought; Mailchimp keeps it visible and in stock."""
    from shuup.core.models import SupplierShop

    emulator, api_key, _ = mailchimp_account
    supplier = get_default_supplier()
    product = create_product("unapproved-supplier", shop=shop, supplier=supplier, default_price=10)
    assert sent_variant(emulator, api_key, configuration, product)["visibility"] == "visible"
    with transaction.atomic():  # the supplier edit view's form_valid is atomic: Shuup's form saves, then updates
        supplier.save()
        SupplierShop.objects.filter(shop=shop, supplier=supplier).update(is_approved=False)
    assert product.get_shop_instance(shop).get_supplier() is None
    assert_not_offered_after_two_rounds(emulator, api_key, configuration, product)


def test_a_supplier_taken_out_of_the_shop_hides_its_products(shop, configuration, mailchimp_account):
    """Suppliers > edit > Shops: the shop unticked (supplier.shops.remove). Shuup's Supplier.objects.enabled(shop)
    no longer has it, the product page has no supplier and nobody can buy it. receivers/stock.supplier_shops_changed
    queues only the products of a supplier that manages stock (off by default): Mailchimp keeps the product
    visible, 1,000,000 in stock."""
    emulator, api_key, _ = mailchimp_account
    supplier = get_default_supplier()
    assert not supplier.stock_managed
    product = create_product("supplier-left-shop", shop=shop, supplier=supplier, default_price=10)
    assert sent_variant(emulator, api_key, configuration, product)["visibility"] == "visible"
    supplier.shops.remove(shop)
    assert product.get_shop_instance(shop).get_supplier() is None
    assert_not_offered_after_two_rounds(emulator, api_key, configuration, product)
