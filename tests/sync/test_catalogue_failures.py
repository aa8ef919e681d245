"""Nothing of the catalogue or the promos is lost when Mailchimp fails once."""
from decimal import Decimal

import pytest
from shuup.core.models import ShopProductVisibility
from shuup.testing.factories import create_product, get_default_supplier

from shoop_mailchimp.models import SyncState, SyncStatus
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due
from tests.sync.test_promos import coupon_campaign, promo_row, rules_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def test_a_promo_code_refused_once_by_a_5xx_reaches_mailchimp_later(shop, configuration, mailchimp_account):
    emulator, api_key, _ = mailchimp_account
    emulator.faults.fail("*/promo-codes", status=503, method="POST", times=1)
    campaign = coupon_campaign(shop, code="RETRY5", amount=Decimal("5"))
    assert promo_row(campaign).status != SyncStatus.SYNCED
    emulator.faults.clear()
    make_all_due()
    drain()
    rule = rules_of(mailchimp_account, configuration)[str(campaign.pk)]
    assert [code["code"] for code in rule["promo_codes"]] == ["RETRY5"]
    assert promo_row(campaign).status == SyncStatus.SYNCED


def test_a_product_delete_refused_once_is_retried(shop, configuration, mailchimp_account):
    emulator, api_key, _ = mailchimp_account
    product = create_product("gone", shop=shop, supplier=get_default_supplier(), default_price=5)
    assert any(p["id"] == str(product.pk) for p in emulator.products(api_key, configuration.store_id))
    emulator.faults.fail("*/products/*", status=503, method="DELETE", times=1)
    shop_product = product.get_shop_instance(shop)
    shop_product.visibility = ShopProductVisibility.NOT_VISIBLE
    shop_product.save()
    emulator.faults.clear()
    make_all_due()
    drain()
    assert not any(p["id"] == str(product.pk) for p in emulator.products(api_key, configuration.store_id))
    assert not SyncState.objects.products().filter(object_id=product.pk).exists()
