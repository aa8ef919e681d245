"""Hostile campaign and product names where the admin shows them."""
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from shoop_mailchimp.models import MailchimpLogEntry, SyncStatus
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
    """The log's list (Picotable's JSON: a column not marked raw is shown as text) and the entry's page name the
    campaign as text."""
    coupon_campaign(shop, code="HOST", percentage=Decimal("0.1"), name=HOSTILE, public_name=HOSTILE)
    entry = MailchimpLogEntry.objects.get(action="promo.send", shop=shop)
    assert HOSTILE in entry.message
    listed = admin_client.get(reverse("shuup_admin:shoop_mailchimp.log"),
                              {"jq": json.dumps({"perPage": 50, "page": 1})})
    assert listed.status_code == 200
    data = listed.json()
    assert [item["message"] for item in data["items"] if "HOST" in item["message"]] == [entry.message]
    [message_column] = [column for column in data["columns"] if column["id"] == "message"]
    assert not message_column.get("raw"), "Picotable would show the message as markup"
    detail = admin_client.get(reverse("shuup_admin:shoop_mailchimp.log.detail", kwargs={"pk": entry.pk}))
    assert detail.status_code == 200
    html = detail.content.decode()
    assert HOSTILE not in html
    assert "&lt;img" in html
