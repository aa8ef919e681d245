"""Hostile campaign and product names where the admin shows them."""
from decimal import Decimal

import pytest
from django.urls import reverse

from shoop_mailchimp.models import SyncStatus
from tests.sync.test_promos import coupon_campaign, promo_row

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]

HOSTILE = '<img src=x onerror="alert(1)">'


def test_the_failed_items_page_escapes_a_campaigns_name(admin_client, shop, configuration, mailchimp_account):
    coupon_campaign(shop, percentage=Decimal("0.1"), active=False)
    second = coupon_campaign(shop, code="SAVE10", amount=Decimal("5"), active=False, name=HOSTILE)
    assert promo_row(second).status == SyncStatus.FAILED
    html = admin_client.get(reverse("shuup_admin:shoop_mailchimp.failed")).content.decode()
    assert HOSTILE not in html
    assert "&lt;img" in html


def test_the_mailchimp_log_escapes_a_campaigns_name(admin_client, shop, configuration, mailchimp_account):
    coupon_campaign(shop, code="HOST", percentage=Decimal("0.1"), name=HOSTILE, public_name=HOSTILE)
    for name in ("shuup_admin:shoop_mailchimp.log", "shuup_admin:shoop_mailchimp.settings"):
        try:
            url = reverse(name)
        except Exception:
            continue
        html = admin_client.get(url).content.decode()
        assert HOSTILE not in html
