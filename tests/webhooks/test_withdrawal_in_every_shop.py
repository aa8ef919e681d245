"""Shops sharing their contacts share one ``marketing_permission``, and a withdrawal counts in every shop
(shoop_mailchimp.shop_consent): an unsubscribe heard from shop A's audience (its webhook, its reconciliation, the
answer to one of its sends) unsubscribes the member the other shops' consent subscribed in their audiences, and
deletes the shopper's carts in every shop that sends only people who consented (sync.state.record_withdrawal)."""
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from shuup.core.models import PersonContact

from shoop_mailchimp.member_events import handle_event
from shoop_mailchimp.models import MailchimpConfiguration, MailchimpLogEntry, SyncKind, SyncState
from shoop_mailchimp.storefront import subscriptions
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.drainer import drain
from tests.cart_helpers import add_to_basket, basket_of, products, shopper, stored
from tests.helpers import member_status, new_person, send_due
from tests.webhooks.helpers import post_event

pytestmark = pytest.mark.django_db


def consenting_in_both(emulator, api_key, list_id, list_b):
    """A person whose consent was given in the admin (every shop), subscribed in both audiences."""
    person = new_person(permission=True)
    drain()
    assert member_status(emulator, api_key, list_id, person.email) == "subscribed"
    assert member_status(emulator, api_key, list_b, person.email) == "subscribed"
    return person


def test_an_unsubscribe_webhook_of_shop_a_unsubscribes_the_member_in_shop_b(configuration, mailchimp_account,
                                                                           shop_b):
    emulator, api_key, list_id = mailchimp_account
    shop, list_b = shop_b
    person = consenting_in_both(emulator, api_key, list_id, list_b)

    emulator.set_member_status(api_key, list_id, person.email, "unsubscribed")  # the link in shop A's newsletter
    assert post_event(Client(), configuration, "unsubscribe", email=person.email).status_code == 200
    drain()

    person = PersonContact.objects.get(pk=person.pk)
    assert person.marketing_permission is False
    assert member_status(emulator, api_key, list_b, person.email) == "unsubscribed"
    assert subscriptions.newsletter_status(shop, person) == subscriptions.NOT_SUBSCRIBED


def test_with_contacts_per_shop_the_unsubscribe_reaches_the_other_shops_of_the_contact_only(
        settings, configuration, mailchimp_account, shop_b):
    emulator, api_key, list_id = mailchimp_account
    shop, list_b = shop_b
    settings.SHUUP_MANAGE_CONTACTS_PER_SHOP = True
    person = new_person(permission=True)
    person.add_to_shop(configuration.shop)
    person.add_to_shop(shop)
    drain()
    assert member_status(emulator, api_key, list_b, person.email) == "subscribed"

    emulator.set_member_status(api_key, list_id, person.email, "unsubscribed")
    assert post_event(Client(), configuration, "unsubscribe", email=person.email).status_code == 200
    drain()

    assert member_status(emulator, api_key, list_b, person.email) == "unsubscribed"


def test_a_send_of_shop_a_that_finds_the_member_unsubscribed_unsubscribes_it_in_shop_b(
        configuration, mailchimp_account, shop_b):
    """No webhook: shop A's next send of the contact reads the unsubscribe from Mailchimp's answer."""
    emulator, api_key, list_id = mailchimp_account
    shop, list_b = shop_b
    person = consenting_in_both(emulator, api_key, list_id, list_b)
    emulator.edit_member_by_hand(api_key, list_id, person.email, status="unsubscribed")

    rows = SyncState.objects.filter(shop_id=configuration.shop_id, kind=SyncKind.CONTACT, object_id=person.pk)
    rows.update(fingerprint="")  # shop A sends the contact again, and only shop A
    state.record(configuration.shop_id, SyncKind.CONTACT, [person.pk])
    drain(shop_id=configuration.shop_id)
    assert MailchimpLogEntry.objects.filter(action="consent.withdrawn", contact_id=person.pk).exists()
    drain()

    assert PersonContact.objects.get(pk=person.pk).marketing_permission is False
    assert member_status(emulator, api_key, list_b, person.email) == "unsubscribed"


def test_an_unsubscribe_found_by_shop_as_reconciliation_unsubscribes_the_member_in_shop_b(
        configuration, mailchimp_account, shop_b):
    emulator, api_key, list_id = mailchimp_account
    shop, list_b = shop_b
    person = consenting_in_both(emulator, api_key, list_id, list_b)
    emulator.edit_member_by_hand(api_key, list_id, person.email, status="unsubscribed")

    call_command("mailchimp_reconcile", "--shop", str(configuration.shop_id))
    drain()

    assert PersonContact.objects.get(pk=person.pk).marketing_permission is False
    assert member_status(emulator, api_key, list_b, person.email) == "unsubscribed"


@pytest.mark.usefixtures("commits")
def test_an_unsubscribe_in_shop_a_deletes_the_shoppers_cart_in_shop_b(cart_settings, shop_b, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    shop, _list_b = shop_b
    config_b = MailchimpConfiguration.objects.get(shop=shop)
    MailchimpConfiguration.objects.filter(pk=config_b.pk).update(send_unconsented=False)
    user, person = shopper(email="two.shops.tom@fastmail.com")  # consent given where no shop is named
    basket = basket_of(shop, user, host="b.example.com")
    add_to_basket(basket, shop, products(shop)[0])
    assert stored(basket).shop == shop
    send_due(rounds=2)  # the contact first, then the cart
    assert [cart["id"] for cart in emulator.carts(api_key, config_b.store_id)] == [str(stored(basket).pk)]

    handle_event(cart_settings, {"type": "unsubscribe", "fired_at": timezone.now().replace(microsecond=0),
                                 "data": {"list_id": list_id, "email": person.email, "action": "unsub"}})
    person.refresh_from_db()
    assert person.marketing_permission is False
    send_due(rounds=2)  # the contact first, then the cart

    assert emulator.carts(api_key, config_b.store_id) == []


