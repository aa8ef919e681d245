"""review17c: the price Mailchimp gets against what Shuup's storefront product page shows an anonymous visitor."""
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
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
