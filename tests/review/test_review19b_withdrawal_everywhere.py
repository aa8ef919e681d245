"""review19b: "A withdrawal (Unsubscribe, an unsubscribe in any shop's audience, the admin) counts in every shop"
(docs/storefront-signup.rst). An unsubscribe in shop A's audience withdraws the shared marketing permission, but
shop B's audience is never told: B keeps the member subscribed and mails newsletters to someone who withdrew,
and B's account page calls it a subscription made outside the shop."""
import pytest
from django.test import Client
from shuup.core.models import PersonContact, Shop

from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.storefront import subscriptions
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import new_person
from tests.webhooks.helpers import post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop_b(settings, configuration, mailchimp_account):
    """A second shop sharing the contacts, with its own audience."""
    settings.SHUUP_ENABLE_MULTIPLE_SHOPS = True
    settings.SHUUP_MANAGE_CONTACTS_PER_SHOP = False
    emulator, api_key, _list_id = mailchimp_account
    shop = Shop.objects.create(identifier="b", name="Shop B", public_name="Shop B", currency="EUR")
    list_b = emulator.add_list(api_key, name="Shop B audience")
    config_b = MailchimpConfiguration.objects.create(shop=shop, api_key=api_key, list_id=list_b, enabled=True)
    initialize(config_b)
    return shop, list_b


def test_an_unsubscribe_in_shop_as_audience_unsubscribes_the_member_in_shop_b(configuration, mailchimp_account,
                                                                             shop_b):
    emulator, api_key, list_id = mailchimp_account
    shop, list_b = shop_b
    person = new_person(permission=True, email="ann@fastmail.com")  # consent given in the admin: every shop
    drain()
    assert emulator.get_member(api_key, list_b, person.email)["status"] == "subscribed"

    emulator.set_member_status(api_key, list_id, person.email, "unsubscribed")  # the link in shop A's newsletter
    assert post_event(Client(), configuration, "unsubscribe", email=person.email).status_code == 200
    drain()

    person = PersonContact.objects.get(pk=person.pk)
    assert person.marketing_permission is False, "the shop's one consent is withdrawn"
    assert subscriptions.newsletter_status(shop, person) != subscriptions.SUBSCRIBED_ELSEWHERE
    assert emulator.get_member(api_key, list_b, person.email)["status"] == "unsubscribed", (
        "shop B still mails a person whose consent was withdrawn")
