"""review19: in a Shuup with several shops sharing their contacts (``SHUUP_MANAGE_CONTACTS_PER_SHOP`` off), shop A
uses double opt-in: an address typed into its newsletter block is only ``pending`` until its owner confirms. But
the block creates the new person with ``marketing_permission=True`` at once, and the contact's save records that
consent for EVERY recording shop (``receivers.contact_saved`` -> ``consent_given``): shop B, on single opt-in,
subscribes the address straight away in its own audience. Anyone can type anyone's address into shop A's block;
the address's owner is then subscribed to shop B's newsletter without confirming anything, in a shop they never
visited (docs/storefront-signup.rst: "the other shops' consent is untouched by the press")."""
import pytest
from django.test import override_settings
from shuup.core.models import Shop

from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.storefront import subscriptions
from shoop_mailchimp.sync.drainer import drain

pytestmark = pytest.mark.django_db


@override_settings(SHUUP_ENABLE_MULTIPLE_SHOPS=True, SHUUP_MANAGE_CONTACTS_PER_SHOP=False)
def test_a_press_on_shop_as_double_opt_in_block_subscribes_nobody_in_shop_b(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(double_opt_in=True)
    shop_b = Shop.objects.create(identifier="b", name="Shop B", public_name="Shop B", currency="EUR")
    list_b = emulator.add_list(api_key, name="Shop B audience")
    config_b = MailchimpConfiguration.objects.create(shop=shop_b, api_key=api_key, list_id=list_b, enabled=True)
    initialize(config_b)

    subscriptions.subscribe_address(configuration.shop, "victim@fastmail.com")  # a stranger's press on shop A
    drain()

    assert emulator.get_member(api_key, list_id, "victim@fastmail.com")["status"] == "pending"
    member_b = emulator.get_member(api_key, list_b, "victim@fastmail.com")
    assert member_b is None or member_b["status"] not in ("subscribed",), (
        "shop B subscribed an address typed into shop A's double opt-in block, unconfirmed: %r" % member_b["status"])
