"""A shop that connects Mailchimp after another shop's storefront took a consent (shared contacts): its "Sync
existing" (batches) does not subscribe the address (shoop_mailchimp.shop_consent)."""
import pytest
from shuup.core.models import PersonContact, Shop

from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.storefront import subscriptions
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import batch_posts

pytestmark = pytest.mark.django_db


def test_sync_existing_of_a_shop_connected_later_does_not_subscribe_a_consent_given_in_another_shop(
        settings, configuration, mailchimp_account, make_existing):
    settings.SHUUP_ENABLE_MULTIPLE_SHOPS = True
    settings.SHUUP_MANAGE_CONTACTS_PER_SHOP = False
    emulator, api_key, list_id = mailchimp_account
    everywhere = make_existing(2)  # consent given in the admin: counts in every shop
    subscriptions.subscribe_address(configuration.shop, "victim@fastmail.com")  # a press on shop A's block
    drain()
    assert emulator.get_member(api_key, list_id, "victim@fastmail.com")["status"] == "subscribed"

    shop_b = Shop.objects.create(identifier="b", name="Shop B", public_name="Shop B", currency="EUR")
    list_b = emulator.add_list(api_key, name="Shop B audience")
    config_b = MailchimpConfiguration.objects.create(shop=shop_b, api_key=api_key, list_id=list_b, enabled=True,
                                                     send_unconsented=True)
    initialize(config_b)
    emulator.clear_requests()
    report = bulk.sync_existing(shop_b.pk, poll_interval=0.05, timeout=30)

    assert batch_posts(emulator), "sent in batches"
    assert report["contact synced"] >= 3
    assert emulator.get_member(api_key, list_b, "victim@fastmail.com")["status"] == "transactional"
    assert PersonContact.objects.get(email="victim@fastmail.com").marketing_permission  # still A's consent
    for person in everywhere:
        assert emulator.get_member(api_key, list_b, person.email)["status"] == "subscribed"
