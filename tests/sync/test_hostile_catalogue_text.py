"""Text staff type into campaigns, coupons and products (markup, quotes, very long, any script): Mailchimp takes
it, e-mails never get it as markup, and the admin shows it as text."""
from decimal import Decimal

import pytest
from django.urls import reverse
from shuup.testing.factories import create_product, get_default_supplier

from shoop_mailchimp.models import MailchimpLogEntry, SyncStatus
from tests.sync.test_promos import coupon_campaign, promo_row, rules_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]

MARKUP = '<script>alert("7")</script><img src=x onerror=alert(8)><b>Summer</b> '
TEXT = "«Ünïcødé» \"quoted\" & 'single' 🎉 漢字 "
LONG = MARKUP + TEXT + "ä" * 400
# Shuup keeps at most 120 characters of a campaign's names and 256 of a product's (its admin forms refuse more,
# PostgreSQL too): 4-byte characters make 120 of them longer than Mailchimp's bytes all the same.
CAMPAIGN_NAME = (MARKUP + TEXT + "ä" + "🎉" * 120)[:120]
CAMPAIGN_LINE = ("<b>Summer</b> " + TEXT + "ä" + "🎉" * 120)[:120]
PRODUCT_NAME = LONG[:256]


def no_markup(value):
    return "<" not in value and ">" not in value and "alert" not in value and "onerror" not in value


def log_detail(admin_client, action):
    entry = MailchimpLogEntry.objects.filter(action=action).latest("pk")
    return admin_client.get(reverse("shuup_admin:shoop_mailchimp.log.detail", kwargs={"pk": entry.pk})
                            ).content.decode()


def test_a_campaign_with_markup_quotes_and_long_unicode_text_becomes_a_plain_text_rule(
        admin_client, shop, configuration, mailchimp_account):
    """Decided: a rule's title and description are the campaign's text without its markup (Mailchimp puts them
    into e-mails; Shuup shows a campaign's names as text), clipped to Mailchimp's bytes without splitting a
    character. The code goes as it is, and its redemption link carries it encoded."""
    code = 'Ä"<b>🎉&'
    campaign = coupon_campaign(shop, code=code, percentage=Decimal("0.1"), name=CAMPAIGN_NAME,
                               public_name=CAMPAIGN_NAME, basket_line_text=CAMPAIGN_LINE)
    row = promo_row(campaign)
    assert row.status == SyncStatus.SYNCED, row.last_error
    rule = rules_of(mailchimp_account, configuration)[str(campaign.pk)]
    for field, limit in (("title", 100), ("description", 255)):
        assert no_markup(rule[field]), rule[field]
        assert rule[field].startswith("Summer «Ünïcødé» \"quoted\" & 'single' 🎉 漢字 ä")
        assert len(rule[field].encode("utf-8")) <= limit
    [sent_code] = rule["promo_codes"]
    assert sent_code["code"] == code
    assert sent_code["redemption_url"].endswith("?code=%C3%84%22%3Cb%3E%F0%9F%8E%89%26")
    html = log_detail(admin_client, "promo.send")
    assert "<script>alert" not in html and "<img src=x" not in html and "&lt;script&gt;" in html


def test_a_product_with_markup_quotes_and_long_unicode_text_is_sent_and_shown_as_text(
        admin_client, shop, configuration, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    product = create_product("hostile-1", shop=shop, supplier=get_default_supplier(), default_price=10,
                             name=PRODUCT_NAME)
    product.description = "<p>%s</p><script>alert(9)</script>" % LONG
    product.save()
    [sent] = [p for p in emulator.products(api_key, configuration.store_id) if p["id"] == str(product.pk)]
    # A product's name is sent as the shop has it: see docs/products.rst
    assert sent["title"] == PRODUCT_NAME.strip()[:255]
    assert no_markup(sent["description"]) and sent["description"].startswith("Summer «Ünïcødé»")
    [variant] = sent["variants"]
    assert variant["title"] == sent["title"]
    html = log_detail(admin_client, "product.send")
    assert "<script>alert" not in html and "<img src=x" not in html and "&lt;script&gt;" in html
