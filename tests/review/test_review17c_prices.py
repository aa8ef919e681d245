"""review17c: the price Mailchimp gets against what Shuup's storefront product page shows an anonymous visitor."""
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from shuup.core.models import CategoryStatus
from shuup.discounts.models import Discount
from shuup.testing.factories import create_product, get_default_supplier

pytestmark = pytest.mark.django_db(transaction=True)


def sent_price(emulator, api_key, configuration, product):
    sent = next(p for p in emulator.products(api_key, configuration.store_id) if p["id"] == str(product.pk))
    [variant] = sent["variants"]
    return Decimal(str(variant["price"]))


def storefront_price(product):
    """The price the product page shows a visitor who is not logged in."""
    from shuup.core.models import Shop
    from shuup.xtheme import set_current_theme

    set_current_theme("shuup.themes.classic_gray", Shop.objects.first())
    response = Client().get(reverse("shuup:product", kwargs={"pk": product.pk, "slug": product.slug}))
    assert response.status_code == 200
    html = response.content.decode()
    match = re.search(r'class="price-line">.*?<strong>([^<]+)</strong>', html, re.S)
    assert match, html[:3000]
    return Decimal(re.sub(r"[^0-9.]", "", match.group(1).replace(",", ".")))


def primary_category(shop, product):
    """Gives the product a primary category of its own (so that adding or removing another one saves nothing)."""
    from shuup.core.models import Category

    kitchen = Category.objects.create(identifier="kitchen", name="Kitchen", status=CategoryStatus.VISIBLE)
    kitchen.shops.add(shop)
    shop_product = product.get_shop_instance(shop)
    shop_product.primary_category = kitchen
    shop_product.save()
    shop_product.categories.add(kitchen)


def discounted_category(shop):
    from shuup.core.models import Category

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


def test_a_half_cent_is_rounded_as_the_storefront_shows_it(shop, configuration, mailchimp_account):
    """Entered without tax, shown to visitors with 25 % VAT (Sweden, Denmark): 8.10 → 10.125. The product page
    shows €10.12 (Shuup formats money with Babel, which rounds half to even); Mailchimp gets 10.13."""
    from shuup.core.models import AnonymousContact
    from shuup.default_tax.models import TaxRule
    from shuup.testing.factories import get_default_tax_class
    from shuup.testing.factories import get_tax as shuup_tax

    emulator, api_key, _list_id = mailchimp_account
    shop.prices_include_tax = False
    shop.save()
    rule = TaxRule.objects.create(tax=shuup_tax("VAT25", "VAT 25 %", rate=Decimal("0.25")))
    rule.tax_classes.add(get_default_tax_class())
    AnonymousContact.get_default_group().set_price_display_options(shop=shop, show_prices_including_taxes=True)
    product = create_product("candle", shop=shop, supplier=get_default_supplier(), default_price="8.10")
    assert storefront_price(product) == Decimal("10.12")
    assert sent_price(emulator, api_key, configuration, product) == storefront_price(product)
