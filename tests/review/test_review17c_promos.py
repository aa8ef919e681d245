"""review17c: a code reused by next season's campaign."""
from decimal import Decimal

import pytest

from shoop_mailchimp.models import SyncStatus
from tests.sync.test_promos import coupon_campaign, promo_row

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def test_a_code_of_an_ended_campaign_reused_by_a_live_one_reaches_mailchimp(shop, configuration, mailchimp_account):
    """Last summer's SUMMER campaign is switched off; this summer's reuses the code (Shuup allows it: only active
    campaigns may not share a code). The live campaign's code is the one shoppers get: Mailchimp should have it,
    not only the dead rule's."""
    emulator, api_key, _list_id = mailchimp_account
    last_year = coupon_campaign(shop, code="SUMMER", percentage=Decimal("0.1"))
    assert promo_row(last_year).status == SyncStatus.SYNCED
    last_year.active = False
    last_year.save()
    this_year = coupon_campaign(shop, code="SUMMER", percentage=Decimal("0.15"))
    row = promo_row(this_year)
    assert row.status == SyncStatus.SYNCED, row.last_error
    codes = {code["code"]: rule for rule in emulator.promo_rules(api_key, configuration.store_id)
             for code in rule["promo_codes"]}
    assert codes["SUMMER"]["id"] == str(this_year.pk)
