"""review17c: a discount that ends while the batch carrying its sale price is out."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from shuup.discounts.models import Discount
from shuup.testing.factories import create_product, get_default_supplier

from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.rounds import run_due_work
from tests.helpers import batch_posts
from tests.sync.conftest import burst_settings  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def sent_price(emulator, api_key, configuration, product):
    sent = next(p for p in emulator.products(api_key, configuration.store_id) if p["id"] == str(product.pk))
    [variant] = sent["variants"]
    return Decimal(str(variant["price"]))


def test_a_discount_that_ends_while_its_batch_is_out_is_sent_again(shop, burst_settings, mailchimp_account):  # noqa: F811
    """A bulk send submits the sale price; the sale ends (midnight) before the batch is read back. The rows
    close after the end, so the next rounds take them for sent after it: Mailchimp keeps the sale price."""
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
