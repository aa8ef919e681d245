"""What changes every visitor's price without a product save: the tax rules (where visitors see prices in
another taxness than the shop enters them), the shop's "prices include tax" and its currency."""
from decimal import Decimal

import pytest
from django.core.cache import cache
from shuup.core.models import Currency
from shuup.testing.factories import create_product, get_default_supplier, get_default_tax_class

from shoop_mailchimp.models import JobKind, MailchimpJob
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.rounds import run_due_work
from tests.helpers import batch_posts
from tests.sync.test_product_prices import sent_price, shows_visitors, vat_24

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def product_requests(emulator):
    return [r for r in emulator.requests if "/products" in r["path"] or r["path"].endswith("/batches")]


def test_a_tax_rate_changed_sends_the_products_again(taxless_shop, configuration, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    tax = vat_24()
    shows_visitors(taxless_shop, including_taxes=True)
    product = create_product("kettle", shop=taxless_shop, supplier=get_default_supplier(), default_price=10)
    assert sent_price(emulator, api_key, configuration, product) == 12.4
    tax.rate = Decimal("0.1")
    tax.save()
    assert sent_price(emulator, api_key, configuration, product) == 11


def test_a_tax_rule_disabled_deleted_or_given_another_class_sends_the_products_again(
        taxless_shop, configuration, mailchimp_account):
    from shuup.core.models import TaxClass
    from shuup.default_tax.models import TaxRule

    emulator, api_key, _list_id = mailchimp_account
    vat_24()
    rule = TaxRule.objects.get()
    shows_visitors(taxless_shop, including_taxes=True)
    product = create_product("pot", shop=taxless_shop, supplier=get_default_supplier(), default_price=10)
    assert sent_price(emulator, api_key, configuration, product) == 12.4
    rule.enabled = False
    rule.save()
    assert sent_price(emulator, api_key, configuration, product) == 10
    rule.enabled = True
    rule.save()
    assert sent_price(emulator, api_key, configuration, product) == 12.4
    other = TaxClass.objects.create(identifier="books", name="Books")
    rule.tax_classes.set([other])  # as the admin's form saves them, after the rule
    assert sent_price(emulator, api_key, configuration, product) == 10
    rule.tax_classes.add(get_default_tax_class())
    assert sent_price(emulator, api_key, configuration, product) == 12.4
    rule.delete()
    assert sent_price(emulator, api_key, configuration, product) == 10


def test_a_tax_change_sends_nothing_where_visitors_see_prices_as_entered(taxless_shop, configuration,
                                                                        mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    tax = vat_24()
    product = create_product("lid", shop=taxless_shop, supplier=get_default_supplier(), default_price=10)
    assert sent_price(emulator, api_key, configuration, product) == 10
    emulator.clear_requests()
    tax.rate = Decimal("0.1")
    tax.save()
    run_due_work(taxless_shop.pk)
    assert product_requests(emulator) == []


def test_a_tax_change_of_many_products_goes_through_batches(taxless_shop, burst_settings, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    tax = vat_24()
    shows_visitors(taxless_shop, including_taxes=True)
    supplier = get_default_supplier()
    products = [create_product("mug-%d" % number, shop=taxless_shop, supplier=supplier, default_price=10)
                for number in range(8)]
    run_due_work(taxless_shop.pk)
    bulk.resume_batches(taxless_shop.pk, poll_interval=0)
    assert [sent_price(emulator, api_key, burst_settings, product) for product in products] == [12.4] * 8
    emulator.clear_requests()
    tax.rate = Decimal("0.1")
    tax.save()
    run_due_work(taxless_shop.pk)
    bulk.resume_batches(taxless_shop.pk, poll_interval=0)
    assert [sent_price(emulator, api_key, burst_settings, product) for product in products] == [11] * 8
    assert batch_posts(emulator)
    assert not [r for r in emulator.requests if r["method"] in ("PATCH", "POST") and "/products" in r["path"]]


def test_the_shops_prices_include_tax_switched_sends_the_products_again(taxless_shop, configuration,
                                                                        mailchimp_account):
    """Visitors see prices with tax: 10 entered without tax is 12.40 to them, and 10 entered with tax is 10."""
    emulator, api_key, _list_id = mailchimp_account
    vat_24()
    shows_visitors(taxless_shop, including_taxes=True)
    product = create_product("jug", shop=taxless_shop, supplier=get_default_supplier(), default_price=10)
    assert sent_price(emulator, api_key, configuration, product) == 12.4
    taxless_shop.prices_include_tax = True
    taxless_shop.save()
    assert sent_price(emulator, api_key, configuration, product) == 10


def test_the_shops_currency_changed_updates_the_store_and_the_prices(shop, configuration, mailchimp_account):
    """Euros (two places) to yen (none): the store's currency follows, and prices are sent in yen's places."""
    emulator, api_key, _list_id = mailchimp_account
    Currency.objects.update_or_create(code="JPY", defaults={"decimal_places": 0})
    cache.clear()
    product = create_product("tray", shop=shop, supplier=get_default_supplier(), default_price="10.75")
    assert sent_price(emulator, api_key, configuration, product) == 10.75
    assert emulator.get_store(api_key, configuration.store_id)["currency_code"] == shop.currency != "JPY"
    shop.currency = "JPY"
    shop.save()
    cache.clear()
    run_due_work(shop.pk)
    assert emulator.get_store(api_key, configuration.store_id)["currency_code"] == "JPY"
    assert MailchimpJob.objects.filter(shop=shop, kind=JobKind.INITIALIZE).exists()
    assert sent_price(emulator, api_key, configuration, product) == 11
