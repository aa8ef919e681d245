"""The shop moves to another domain (Shops > edit > Domain): Mailchimp's links must follow."""
from decimal import Decimal

import pytest
from shuup.testing.factories import create_product, get_default_supplier

from shoop_mailchimp.sync.rounds import run_due_work
from tests.helpers import make_all_due
from tests.sync.test_promos import coupon_campaign, rules_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.fixture
def old_domain_shop(settings, shop):
    # The webhook goes to its own host: the staging guard (the shop's domain naming its site) is not involved.
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, WEBHOOK_BASE_URL="https://hooks.example.net")
    shop.domain = "old-shop.example.com"
    shop.save()
    return shop


def move(shop):
    shop.domain = "www.new-shop.example.com"
    shop.save()
    for _ in range(3):
        make_all_due()
        run_due_work()


def test_product_links_follow_the_shops_new_domain(old_domain_shop, configuration, mailchimp_account):
    """Every product block and recommendation in e-mails links to the product page and picture: after the shop
    moved to its new domain they keep pointing at the old one (until each product happens to be saved)."""
    emulator, api_key, _ = mailchimp_account
    product = create_product("moved-mug", shop=old_domain_shop, supplier=get_default_supplier(), default_price=5)
    [sent] = [p for p in emulator.products(api_key, configuration.store_id) if p["id"] == str(product.pk)]
    assert sent["url"].startswith("https://old-shop.example.com/")
    move(old_domain_shop)
    from shoop_mailchimp.models import MailchimpConfiguration
    config = MailchimpConfiguration.objects.get(pk=configuration.pk)
    assert config.site_mismatch is None and not config.paused_reason
    assert emulator.get_store(api_key, config.store_id)["domain"] == "www.new-shop.example.com", "the store moved"
    [sent] = [p for p in emulator.products(api_key, configuration.store_id) if p["id"] == str(product.pk)]
    assert sent["url"].startswith("https://www.new-shop.example.com/"), sent["url"]


def test_promo_redemption_links_follow_the_shops_new_domain(old_domain_shop, configuration, mailchimp_account):
    """A promo code's button in e-mails must open the shop where it is now."""
    campaign = coupon_campaign(old_domain_shop, code="MOVED", amount=Decimal("5"))
    url = rules_of(mailchimp_account, configuration)[str(campaign.pk)]["promo_codes"][0]["redemption_url"]
    assert url.startswith("https://old-shop.example.com/")
    move(old_domain_shop)
    url = rules_of(mailchimp_account, configuration)[str(campaign.pk)]["promo_codes"][0]["redemption_url"]
    assert url.startswith("https://www.new-shop.example.com/"), url



def test_order_pages_follow_the_shops_new_domain(old_domain_shop, configuration, mailchimp_account):
    """An order's page (``order_url``, the customer's order history) opens the shop where it is now."""
    from django.contrib.auth import get_user_model

    from tests.helpers import new_person, sent_order
    from tests.sync.test_order_fields import mug_order

    emulator, api_key, _ = mailchimp_account
    person = new_person(user=get_user_model().objects.create_user("moved", "moved.customer@fastmail.com", "pw"))
    order = mug_order(old_domain_shop, person)
    assert sent_order(emulator, api_key, configuration, order)["order_url"].startswith("https://old-shop.example.com/")
    move(old_domain_shop)
    url = sent_order(emulator, api_key, configuration, order)["order_url"]
    assert url.startswith("https://www.new-shop.example.com/"), url


def test_a_domain_move_sends_no_order_notification_again(old_domain_shop, configuration, mailchimp_account):
    """Not a defect (second review of issue 17, kept as evidence).
    Notifications on; a paid and shipped order. The shop moves to a new domain: FOLLOW_DOMAIN re-sends every
    order (its order_url); the customer must not get a second confirmation, invoice or shipping e-mail."""
    from django.contrib.auth import get_user_model
    from shuup.core.models import PaymentStatus, ShippingStatus

    from shoop_mailchimp.models import MailchimpConfiguration
    from tests.helpers import new_person, sent_order
    from tests.sync.test_order_fields import mug_order, notifications

    emulator, api_key, _ = mailchimp_account
    shop = old_domain_shop
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(send_order_notifications=True)
    person = new_person(user=get_user_model().objects.create_user("mover", "mover.customer@fastmail.com", "pw"))
    order = mug_order(shop, person)
    order.payment_status = PaymentStatus.FULLY_PAID
    order.shipping_status = ShippingStatus.FULLY_SHIPPED
    order.save()
    make_all_due()
    run_due_work()
    before = notifications(emulator, api_key, configuration)
    assert sent_order(emulator, api_key, configuration, order)["fulfillment_status"] == "shipped", before
    move(shop)
    assert sent_order(emulator, api_key, configuration, order)["order_url"].startswith("https://www.new-shop")
    assert notifications(emulator, api_key, configuration) == before
