"""Product prices as an anonymous visitor of the storefront sees them: Shuup's pricing and discounts, shown
with or without tax as the shop displays prices to visitors, and sent again when a discount changes them."""
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from shuup.core.models import AnonymousContact, ContactGroup
from shuup.customer_group_pricing.models import CgpPrice
from shuup.discounts.models import Discount, HappyHour, TimeRange
from shuup.testing.factories import create_product, get_default_category, get_default_supplier, get_default_tax_class
from shuup.testing.factories import get_tax as shuup_tax

from shoop_mailchimp.models import SyncState, SyncStatus
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.rounds import run_due_work
from tests.helpers import batch_posts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def sent_variants(emulator, api_key, configuration, product):
    sent = next(p for p in emulator.products(api_key, configuration.store_id) if p["id"] == str(product.pk))
    return {variant["id"]: variant for variant in sent["variants"]}


def sent_price(emulator, api_key, configuration, product):
    [variant] = sent_variants(emulator, api_key, configuration, product).values()
    return variant["price"]


def storefront_price(product):
    """The price Shuup's product page shows a visitor who is not logged in."""
    from shuup.core.models import Shop
    from shuup.xtheme import set_current_theme

    set_current_theme("shuup.themes.classic_gray", Shop.objects.first())
    response = Client().get(reverse("shuup:product", kwargs={"pk": product.pk, "slug": product.slug}))
    assert response.status_code == 200
    html = response.content.decode()
    match = re.search(r'class="price-line">.*?<strong>([^<]+)</strong>', html, re.S)
    assert match, html[:3000]
    return Decimal(re.sub(r"[^0-9.]", "", match.group(1).replace(",", ".")))


def vat_24():
    """A 24 % tax on Shuup's default tax class, for every customer and place."""
    from shuup.default_tax.models import TaxRule

    tax = shuup_tax("VAT24", "VAT 24 %", rate=Decimal("0.24"))
    rule = TaxRule.objects.create(tax=tax)
    rule.tax_classes.add(get_default_tax_class())
    return tax


def shows_visitors(shop, including_taxes):
    AnonymousContact.get_default_group().set_price_display_options(shop=shop,
                                                                   show_prices_including_taxes=including_taxes)


@pytest.fixture
def taxless_shop_with_vat(taxless_shop):
    """A shop whose prices are entered without tax, with a 24 % tax on them."""
    vat_24()
    return taxless_shop


@pytest.fixture
def taxful_shop(shop):
    shop.prices_include_tax = True
    shop.save()
    vat_24()
    return shop


def test_prices_entered_without_tax_shown_with_tax_are_sent_with_tax(taxless_shop_with_vat, configuration,
                                                                      mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    shows_visitors(taxless_shop_with_vat, including_taxes=True)
    product = create_product("kettle", shop=taxless_shop_with_vat, supplier=get_default_supplier(), default_price=10)
    assert sent_price(emulator, api_key, configuration, product) == 12.4


def test_prices_entered_with_tax_shown_without_it_are_sent_without_it(taxful_shop, configuration,
                                                                       mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    shows_visitors(taxful_shop, including_taxes=False)
    product = create_product("toaster", shop=taxful_shop, supplier=get_default_supplier(), default_price="12.40")
    assert sent_price(emulator, api_key, configuration, product) == 10


def test_the_display_option_changed_sends_the_products_again(taxless_shop_with_vat, configuration, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    product = create_product("pan", shop=taxless_shop_with_vat, supplier=get_default_supplier(), default_price=10)
    assert sent_price(emulator, api_key, configuration, product) == 10
    shows_visitors(taxless_shop_with_vat, including_taxes=True)
    assert sent_price(emulator, api_key, configuration, product) == 12.4


def test_a_discount_sends_the_sale_price_and_its_end_restores_the_price(shop, configuration, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    product = create_product("lamp", shop=shop, supplier=get_default_supplier(), default_price=20)
    assert sent_price(emulator, api_key, configuration, product) == 20
    discount = Discount.objects.create(shop=shop, name="Lamp sale", active=True, product=product,
                                       discounted_price_value=15)
    assert sent_price(emulator, api_key, configuration, product) == 15
    discount.active = False
    discount.save()
    assert sent_price(emulator, api_key, configuration, product) == 20


def test_a_deleted_discount_restores_the_price(shop, configuration, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    product = create_product("rug", shop=shop, supplier=get_default_supplier(), default_price=40)
    product.get_shop_instance(shop).categories.add(get_default_category())
    discount = Discount.objects.create(shop=shop, name="Rugs -25 %", active=True, category=get_default_category(),
                                       discount_percentage=Decimal("0.25"))
    assert sent_price(emulator, api_key, configuration, product) == 30
    discount.delete()
    assert sent_price(emulator, api_key, configuration, product) == 40


def test_a_discount_moved_to_another_product_restores_the_first(shop, configuration, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    first = create_product("chair", shop=shop, supplier=get_default_supplier(), default_price=50)
    second = create_product("stool", shop=shop, supplier=get_default_supplier(), default_price=30)
    discount = Discount.objects.create(shop=shop, name="Seat sale", active=True, product=first,
                                       discount_amount_value=10)
    assert sent_price(emulator, api_key, configuration, first) == 40
    discount.product = second
    discount.save()
    assert sent_price(emulator, api_key, configuration, first) == 50
    assert sent_price(emulator, api_key, configuration, second) == 20


def test_a_variants_discount_sends_its_parent(shop, configuration, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    supplier = get_default_supplier()
    parent = create_product("shirt", shop=shop, supplier=supplier, default_price=25)
    small = create_product("shirt-s", shop=shop, supplier=supplier, default_price=25)
    small.link_to_parent(parent)
    Discount.objects.create(shop=shop, name="Small shirts", active=True, product=small, discounted_price_value=19)
    assert sent_variants(emulator, api_key, configuration, parent)[str(small.pk)]["price"] == 19


def test_a_discount_of_the_products_supplier_shown_on_its_page_is_sent(shop, configuration, mailchimp_account):
    """The product page prices with the shop product's supplier (ProductDetailView: shop_product.get_supplier),
    so a Discount limited to that supplier is the sale price every visitor sees there."""
    emulator, api_key, _list_id = mailchimp_account
    supplier = get_default_supplier()
    product = create_product("teapot", shop=shop, supplier=supplier, default_price=30)
    Discount.objects.create(shop=shop, name="Supplier week", active=True, product=product, supplier=supplier,
                            discounted_price_value=21)
    assert storefront_price(product) == Decimal("21")
    assert sent_price(emulator, api_key, configuration, product) == 21


def test_a_discount_of_another_supplier_is_not_sent(shop, configuration, mailchimp_account):
    from shuup.testing.factories import get_supplier

    emulator, api_key, _list_id = mailchimp_account
    product = create_product("saucer", shop=shop, supplier=get_default_supplier(), default_price=30)
    other = get_supplier("simple_supplier", shop=shop, identifier="other", name="Other")
    Discount.objects.create(shop=shop, name="Other week", active=True, product=product, supplier=other,
                            discounted_price_value=21)
    product.save()
    assert storefront_price(product) == Decimal("30")
    assert sent_price(emulator, api_key, configuration, product) == 30


def primary_category(shop, product):
    """Gives the product a primary category of its own (so that adding or removing another one saves nothing)."""
    from shuup.core.models import Category, CategoryStatus

    kitchen = Category.objects.create(identifier="kitchen", name="Kitchen", status=CategoryStatus.VISIBLE)
    kitchen.shops.add(shop)
    shop_product = product.get_shop_instance(shop)
    shop_product.primary_category = kitchen
    shop_product.save()
    shop_product.categories.add(kitchen)


def discounted_category(shop):
    from shuup.core.models import Category, CategoryStatus

    sale = Category.objects.create(identifier="sale", name="Sale", status=CategoryStatus.VISIBLE)
    sale.shops.add(shop)
    Discount.objects.create(shop=shop, name="Sale -50 %", active=True, category=sale,
                            discount_percentage=Decimal("0.5"))
    return sale


def test_a_product_added_to_a_discounted_category_from_the_category_admin_is_sent_again(
        shop, configuration, mailchimp_account):
    """The category admin's *Additional Category* products (CategoryProductForm) only add the category to the
    shop products (no save of a product that has a primary category): a discount for that category then gives
    them the sale price on the storefront."""
    from shuup.admin.modules.categories.forms import CategoryProductForm

    emulator, api_key, _list_id = mailchimp_account
    product = create_product("mug", shop=shop, supplier=get_default_supplier(), default_price=10)
    primary_category(shop, product)
    sale = discounted_category(shop)
    assert sent_price(emulator, api_key, configuration, product) == Decimal("10")
    form = CategoryProductForm(shop=shop, category=sale, data={"additional_products": [product.pk]})
    assert form.is_valid(), form.errors
    form.save()
    assert storefront_price(product) == Decimal("5")
    assert sent_price(emulator, api_key, configuration, product) == Decimal("5")


def test_a_product_removed_from_a_discounted_category_from_the_category_admin_is_sent_again(
        shop, configuration, mailchimp_account):
    from shuup.admin.modules.categories.forms import CategoryProductForm

    emulator, api_key, _list_id = mailchimp_account
    product = create_product("jug", shop=shop, supplier=get_default_supplier(), default_price=10)
    primary_category(shop, product)
    sale = discounted_category(shop)
    product.get_shop_instance(shop).categories.add(sale)
    product.save()
    assert sent_price(emulator, api_key, configuration, product) == Decimal("5")
    form = CategoryProductForm(shop=shop, category=sale, data={"remove_products": [product.pk]})
    assert form.is_valid(), form.errors
    form.save()
    assert storefront_price(product) == Decimal("10")
    assert sent_price(emulator, api_key, configuration, product) == Decimal("10")


def test_a_discount_for_a_group_visitors_are_not_in_is_not_sent(shop, configuration, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    product = create_product("vase", shop=shop, supplier=get_default_supplier(), default_price=20)
    members = ContactGroup.objects.create(name="Members")
    Discount.objects.create(shop=shop, name="Members", active=True, product=product, contact_group=members,
                            discounted_price_value=10)
    Discount.objects.create(shop=shop, name="Everyone", active=True, product=product, discounted_price_value=15)
    assert sent_price(emulator, api_key, configuration, product) == 15


def test_a_group_price_of_visitors_is_sent(shop, configuration, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    product = create_product("bowl", shop=shop, supplier=get_default_supplier(), default_price=20)
    assert sent_price(emulator, api_key, configuration, product) == 20
    CgpPrice.objects.create(shop=shop, product=product, group=AnonymousContact.get_default_group(), price_value=17)
    assert sent_price(emulator, api_key, configuration, product) == 17


def test_a_discount_whose_end_passes_is_sent_again_without_a_save(shop, configuration, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    product = create_product("clock", shop=shop, supplier=get_default_supplier(), default_price=80)
    discount = Discount.objects.create(shop=shop, name="Weekend", active=True, product=product,
                                       discounted_price_value=60, end_datetime=timezone.now() + timedelta(days=1))
    assert sent_price(emulator, api_key, configuration, product) == 60
    Discount.objects.filter(pk=discount.pk).update(end_datetime=timezone.now())  # the day came
    run_due_work()
    assert sent_price(emulator, api_key, configuration, product) == 80
    row = SyncState.objects.products().get(object_id=product.pk)
    assert row.status == SyncStatus.SYNCED
    # Once only: the next round does not queue it again.
    run_due_work()
    assert SyncState.objects.products().get(object_id=product.pk).version == row.version


def test_a_discount_that_ends_while_its_batch_is_out_is_sent_again(shop, burst_settings, mailchimp_account):
    """A bulk send submits the sale price; the sale ends (midnight) before the batch is read back. The rows
    close after the end, but their payload was built before it: the next rounds send the price again."""
    emulator, api_key, _list_id = mailchimp_account
    supplier = get_default_supplier()
    products = [create_product("plate-%d" % number, shop=shop, supplier=supplier, default_price=10)
                for number in range(8)]
    discount = Discount.objects.create(shop=shop, name="Night sale", active=True, product=products[0],
                                       discounted_price_value=7, end_datetime=timezone.now() + timedelta(days=1))
    run_due_work(shop.pk)  # the batch goes out with the sale price
    assert batch_posts(emulator)
    Discount.objects.filter(pk=discount.pk).update(end_datetime=timezone.now())  # midnight, no save
    bulk.resume_batches(shop.pk, poll_interval=0)  # read back after the end
    assert sent_price(emulator, api_key, burst_settings, products[0]) == 7
    run_due_work(shop.pk)
    bulk.resume_batches(shop.pk, poll_interval=0)
    run_due_work(shop.pk)
    assert sent_price(emulator, api_key, burst_settings, products[0]) == 10


def test_a_discount_that_ends_while_a_round_finds_its_batch_out_is_sent_again(shop, burst_settings,
                                                                              mailchimp_account):
    """The round that sees the end passes while the batch is still out: its rows are queued all the same, and
    sent again once the batch closes them."""
    emulator, api_key, _list_id = mailchimp_account
    emulator.batch_delay = 60  # the batch is still out when the round looks (held until the test lets it go)
    supplier = get_default_supplier()
    products = [create_product("bowl-%d" % number, shop=shop, supplier=supplier, default_price=10)
                for number in range(8)]
    discount = Discount.objects.create(shop=shop, name="Night sale", active=True, product=products[0],
                                       discounted_price_value=7, end_datetime=timezone.now() + timedelta(days=1))
    run_due_work(shop.pk)
    assert batch_posts(emulator)
    Discount.objects.filter(pk=discount.pk).update(end_datetime=timezone.now())
    assert SyncState.objects.products().get(object_id=products[0].pk).status == SyncStatus.SENDING
    run_due_work(shop.pk)  # the end passed; the batch is still out
    emulator.batch_delay = 0
    bulk.resume_batches(shop.pk, poll_interval=0)
    run_due_work(shop.pk)
    bulk.resume_batches(shop.pk, poll_interval=0)
    run_due_work(shop.pk)
    assert sent_price(emulator, api_key, burst_settings, products[0]) == 10


def test_a_discount_whose_start_passes_is_sent_without_a_save(shop, configuration, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    product = create_product("desk", shop=shop, supplier=get_default_supplier(), default_price=200)
    discount = Discount.objects.create(shop=shop, name="Next week", active=True, product=product,
                                       discounted_price_value=150, start_datetime=timezone.now() + timedelta(days=7))
    assert sent_price(emulator, api_key, configuration, product) == 200
    Discount.objects.filter(pk=discount.pk).update(start_datetime=timezone.now())
    run_due_work()
    assert sent_price(emulator, api_key, configuration, product) == 150


def test_a_happy_hour_that_began_is_sent_without_a_save(shop, configuration, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    # The time zone is the one where it is now 12 something (as Shuup's happy hours read it: the active one): a
    # happy hour from an hour from now to three hours from now ends before midnight, whenever the test runs.
    utc_now = timezone.now()
    with timezone.override("Etc/GMT%+d" % (utc_now.hour - 12)):  # (POSIX signs: Etc/GMT-2 is UTC+2)
        now = timezone.localtime(utc_now)
        assert now.hour == 12, now
        product = create_product("beer", shop=shop, supplier=get_default_supplier(), default_price=8)
        later, end = (now + timedelta(hours=1)).time(), (now + timedelta(hours=3)).time()
        happy_hour = HappyHour.objects.create(shop=shop, name="After work")
        time_range = TimeRange.objects.create(happy_hour=happy_hour, weekday=now.weekday(), from_hour=later,
                                              to_hour=end)
        discount = Discount.objects.create(shop=shop, name="Beer", active=True, product=product,
                                           discounted_price_value=5)
        discount.happy_hours.add(happy_hour)
        assert sent_price(emulator, api_key, configuration, product) == 8
        TimeRange.objects.filter(pk=time_range.pk).update(
            from_hour=timezone.localtime(timezone.now()).time())  # began
        run_due_work()
        assert sent_price(emulator, api_key, configuration, product) == 5


def test_the_batch_path_sends_sale_prices_in_few_queries(shop, burst_settings, mailchimp_account):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shoop_mailchimp.sync.kinds import product as product_kind

    emulator, api_key, _list_id = mailchimp_account
    supplier = get_default_supplier()
    products = [create_product("cup-%d" % number, shop=shop, supplier=supplier, default_price=10)
                for number in range(8)]
    Discount.objects.create(shop=shop, name="Cup", active=True, product=products[0], discounted_price_value=7)
    Discount.objects.create(shop=shop, name="Supplier cup", active=True, product=products[1], supplier=supplier,
                            discounted_price_value=8)
    run_due_work(shop.pk)
    bulk.resume_batches(shop.pk, poll_interval=0)
    assert batch_posts(emulator)
    assert [sent_price(emulator, api_key, burst_settings, product) for product in products] == [7, 8] + [10] * 6
    with CaptureQueriesContext(connection) as one:
        product_kind.Catalogue(shop, [products[2].pk])
    with CaptureQueriesContext(connection) as seven:
        product_kind.Catalogue(shop, [product.pk for product in products[2:]])
    # Products no rule for visitors concerns go through no query of their own.
    assert len(seven) == len(one)


def test_a_half_cent_is_rounded_as_the_storefront_shows_it(shop, configuration, mailchimp_account):
    """Entered without tax, shown to visitors with 25 % VAT (Sweden, Denmark): 8.10 → 10.125. The product page
    shows €10.12 (Shuup formats money with Babel, which rounds half to even): Mailchimp gets the same, not the
    10.13 an order's half up would give."""
    from shuup.default_tax.models import TaxRule

    emulator, api_key, _list_id = mailchimp_account
    shop.prices_include_tax = False
    shop.save()
    rule = TaxRule.objects.create(tax=shuup_tax("VAT25", "VAT 25 %", rate=Decimal("0.25")))
    rule.tax_classes.add(get_default_tax_class())
    AnonymousContact.get_default_group().set_price_display_options(shop=shop, show_prices_including_taxes=True)
    product = create_product("candle", shop=shop, supplier=get_default_supplier(), default_price="8.10")
    assert storefront_price(product) == Decimal("10.12")
    assert Decimal(str(sent_price(emulator, api_key, configuration, product))) == storefront_price(product)


def storefront_variation(parent, child):
    """The selected variation's price as the parent's product page shows it (None: not offered there): the
    page's hidden supplier field and the price update its script asks (``/xtheme/product_price``)."""
    from shuup.core.models import Shop
    from shuup.xtheme import set_current_theme

    set_current_theme("shuup.themes.classic_gray", Shop.objects.first())
    html = Client().get(reverse("shuup:product", kwargs={"pk": parent.pk, "slug": parent.slug})).content.decode()
    supplier = re.search(r'id="product-supplier-%d" name="supplier_id" value="(\d+)"' % parent.pk, html)
    assert supplier, html[:3000]
    offered = re.search(r'<option value="%d"' % child.pk, html) is not None
    response = Client().get("/xtheme/product_price", {"id": child.pk, "quantity": 1, "supplier": supplier.group(1)})
    match = re.search(r'<span class="product-price"><strong>([^<]+)</strong>', response.content.decode())
    if not offered or match is None or "--" in match.group(1):
        return None
    return Decimal(re.sub(r"[^0-9.]", "", match.group(1).replace(",", ".")))


def test_a_variation_is_priced_with_the_supplier_of_its_parents_page(shop, configuration, mailchimp_account):
    """The child's own first supplier is another than the parent's: the parent's page prices the selected
    variation with the page's supplier (its hidden field goes with the price update), so a discount of that
    supplier is what visitors pay, and one of the child's first supplier is not."""
    from shuup.testing.factories import get_supplier

    emulator, api_key, _list_id = mailchimp_account
    first = get_default_supplier()
    page_supplier = get_supplier("simple_supplier", shop=shop, identifier="page", name="Page")
    parent = create_product("coat", shop=shop, supplier=page_supplier, default_price=80)
    child = create_product("coat-m", shop=shop, supplier=first, default_price=80)
    child.get_shop_instance(shop).suppliers.add(page_supplier)
    child.link_to_parent(parent)
    Discount.objects.create(shop=shop, name="Page week", active=True, product=child, supplier=page_supplier,
                            discounted_price_value=60)
    Discount.objects.create(shop=shop, name="First week", active=True, product=child, supplier=first,
                            discounted_price_value=50)
    assert storefront_variation(parent, child) == Decimal("60")
    assert sent_variants(emulator, api_key, configuration, parent)[str(child.pk)]["price"] == 60


def test_a_variation_the_parents_page_supplier_does_not_supply_is_hidden(shop, configuration, mailchimp_account):
    """The parent's page lists only the variations its supplier supplies: another supplier's is not offered."""
    from shuup.testing.factories import get_supplier

    emulator, api_key, _list_id = mailchimp_account
    other = get_supplier("simple_supplier", shop=shop, identifier="other", name="Other")
    parent = create_product("scarf", shop=shop, supplier=get_default_supplier(), default_price=20)
    red = create_product("scarf-red", shop=shop, supplier=get_default_supplier(), default_price=20)
    blue = create_product("scarf-blue", shop=shop, supplier=other, default_price=20)
    red.link_to_parent(parent)
    blue.link_to_parent(parent)
    parent.save()
    assert storefront_variation(parent, red) == Decimal("20")
    assert storefront_variation(parent, blue) is None
    variants = sent_variants(emulator, api_key, configuration, parent)
    assert variants[str(red.pk)]["visibility"] == "visible"
    assert (variants[str(blue.pk)]["visibility"], variants[str(blue.pk)]["inventory_quantity"]) == ("hidden", 0)


def test_a_supplier_given_to_a_variation_without_a_save_offers_it_again(shop, configuration, mailchimp_account):
    from shuup.testing.factories import get_supplier

    emulator, api_key, _list_id = mailchimp_account
    other = get_supplier("simple_supplier", shop=shop, identifier="other", name="Other")
    parent = create_product("glove", shop=shop, supplier=get_default_supplier(), default_price=20)
    child = create_product("glove-l", shop=shop, supplier=other, default_price=20)
    child.link_to_parent(parent)
    assert sent_variants(emulator, api_key, configuration, parent)[str(child.pk)]["visibility"] == "hidden"
    child.get_shop_instance(shop).suppliers.add(get_default_supplier())
    assert storefront_variation(parent, child) == Decimal("20")
    assert sent_variants(emulator, api_key, configuration, parent)[str(child.pk)]["visibility"] == "visible"
