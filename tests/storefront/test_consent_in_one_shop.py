"""Shops sharing their contacts (``SHUUP_MANAGE_CONTACTS_PER_SHOP`` off) share one ``marketing_permission``; a
consent given in one shop's storefront (the newsletter block, the registration box, the account page) counts in
that shop only (shoop_mailchimp.shop_consent). Anyone can type anyone's address into shop A's block: the
address's owner must not be subscribed in shop B, where they confirmed nothing."""
import pytest
from django.test import Client
from shuup.core.models import OrderLineType, PersonContact
from shuup.core.order_creator import OrderCreator, OrderSource
from shuup.testing.factories import (
    create_product,
    create_random_address,
    get_default_supplier,
    get_initial_order_status,
)

from shoop_mailchimp import shop_consent
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.storefront import subscriptions
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import member_status, new_person, row_of
from tests.webhooks.helpers import post_event

pytestmark = pytest.mark.django_db


def test_a_press_on_shop_as_double_opt_in_block_subscribes_nobody_in_shop_b(configuration, mailchimp_account, shop_b):
    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(double_opt_in=True)
    shop, list_b = shop_b

    subscriptions.subscribe_address(configuration.shop, "victim@fastmail.com")  # a stranger's press on shop A
    drain()

    assert member_status(emulator, api_key, list_id, "victim@fastmail.com") == "pending"
    assert member_status(emulator, api_key, list_b, "victim@fastmail.com") in (None, "transactional")
    person = PersonContact.objects.get(email="victim@fastmail.com")
    assert row_of(person, shop.pk).opt_in in (None, False)
    assert subscriptions.newsletter_status(shop, person) == subscriptions.NOT_SUBSCRIBED


def test_consent_given_on_one_shops_account_page_counts_there_only(configuration, mailchimp_account, shop_b):
    emulator, api_key, list_id = mailchimp_account
    shop, list_b = shop_b
    person = new_person(permission=False, email="ann@fastmail.com")
    shop_consent.record_proof(person.pk, person.email)  # her account was activated through the mailed link
    drain()

    subscriptions.subscribe_person(configuration.shop, person, subscriptions.ACCOUNT_PAGE)
    drain()
    assert member_status(emulator, api_key, list_id, person.email) == "subscribed"
    assert member_status(emulator, api_key, list_b, person.email) == "transactional"

    # Given in shop B too (its account page): now B subscribes the address, and A keeps it.
    subscriptions.subscribe_person(shop, PersonContact.objects.get(pk=person.pk), subscriptions.ACCOUNT_PAGE)
    drain()
    assert member_status(emulator, api_key, list_b, person.email) == "subscribed"
    assert member_status(emulator, api_key, list_id, person.email) == "subscribed"


def test_a_consent_given_in_the_admin_counts_in_every_shop(configuration, mailchimp_account, shop_b):
    emulator, api_key, list_id = mailchimp_account
    shop, list_b = shop_b
    subscriptions.subscribe_address(configuration.shop, "bob@fastmail.com")
    drain()
    person = PersonContact.objects.get(email="bob@fastmail.com")
    assert member_status(emulator, api_key, list_b, person.email) in (None, "transactional")

    person.marketing_permission = False  # the shop withdraws it, then the shopper gives it at the counter
    person.save()
    person = PersonContact.objects.get(pk=person.pk)
    person.marketing_permission = True
    person.save()
    drain()

    assert member_status(emulator, api_key, list_b, person.email) == "subscribed"
    assert member_status(emulator, api_key, list_id, person.email) == "subscribed"


def test_a_confirmation_from_shop_as_audience_gives_no_consent_in_shop_b(configuration, mailchimp_account, shop_b):
    """A press on shop A's block for a known address; its owner confirms from A's e-mail: the consent Shuup
    records (its one marketing permission) is A's, and a later send of the contact to B does not subscribe it."""
    emulator, api_key, list_id = mailchimp_account
    shop, list_b = shop_b
    person = new_person(permission=False, email="known@fastmail.com")
    drain()
    subscriptions.subscribe_address(configuration.shop, person.email)
    drain()
    assert member_status(emulator, api_key, list_id, person.email) == "pending"

    emulator.set_member_status(api_key, list_id, person.email, "subscribed")  # the owner clicks the link
    assert post_event(Client(), configuration, "subscribe", email=person.email).status_code == 200
    person = PersonContact.objects.get(pk=person.pk)
    assert person.marketing_permission is True
    person.first_name = "Renamed"  # any later save sends the contact to both shops
    person.save()
    drain()

    assert member_status(emulator, api_key, list_b, person.email) == "transactional"
    assert member_status(emulator, api_key, list_id, person.email) == "subscribed"


def order_with_marketing_box(shop, customer, marketing):
    """An order through Shuup's OrderCreator, with the checkout's marketing box as the shopper left it."""
    product = create_product("sku-checkout-consent", shop=shop, supplier=get_default_supplier(), default_price=10)
    source = OrderSource(shop)
    source.customer = customer
    source.billing_address = create_random_address()
    source.shipping_address = create_random_address()
    source.status = get_initial_order_status()
    source.marketing_permission = marketing
    source.add_line(type=OrderLineType.PRODUCT, product=product, supplier=get_default_supplier(), quantity=1,
                    base_unit_price=source.create_price(10), sku=product.sku, text="Product")
    return OrderCreator().create_order(source)


def consenting_in_shop_b_only(emulator, api_key, list_id, shop):
    person = new_person(permission=False, email="eve@fastmail.com")
    subscriptions.subscribe_person(shop, person, subscriptions.ACCOUNT_PAGE)
    drain()
    assert member_status(emulator, api_key, list_id, person.email) == "transactional"
    return PersonContact.objects.get(pk=person.pk)


@pytest.mark.parametrize("proven", [True, False], ids=["proven", "unproven"])
def test_the_box_ticked_at_a_checkout_counts_in_every_shop_also_after_a_consent_given_in_another(
        configuration, mailchimp_account, shop_b, proven):
    """Shuup saves nothing (the shared marketing permission is on already): the order's box says it. The shopper's
    own consent, given at a storefront's checkout: sent as given for an address they proved theirs (the account
    activated through the mailed link); for another, the member shop A holds of it (``transactional``) is asked to
    confirm first, as for any storefront consent of an unproven address (it counts in shop A all the same)."""
    emulator, api_key, list_id = mailchimp_account
    shop, _list_b = shop_b
    person = consenting_in_shop_b_only(emulator, api_key, list_id, shop)
    if proven:
        shop_consent.record_proof(person.pk, person.email)

    order = order_with_marketing_box(configuration.shop, person, marketing=True)  # ticked at shop A's checkout
    drain()

    assert order.marketing_permission is True
    assert shop_consent.consents_in(configuration.shop_id, PersonContact.objects.get(pk=person.pk))
    assert member_status(emulator, api_key, list_id, person.email) == ("subscribed" if proven else "pending")


def test_the_box_shuup_hides_and_fills_from_the_consent_is_no_consent_in_the_shop(configuration, mailchimp_account,
                                                                               shop_b):
    """Once it asked, Shuup's checkout hides the box and copies the customer's flag into it: the order's box
    then says nothing the shopper chose at this checkout."""
    emulator, api_key, list_id = mailchimp_account
    shop, _list_b = shop_b
    person = consenting_in_shop_b_only(emulator, api_key, list_id, shop)
    person.options = {"marketing_permission_asked": True}
    person.save(update_fields=["options"])

    order_with_marketing_box(configuration.shop, person, marketing=person.marketing_permission)
    drain()

    assert not shop_consent.consents_in(configuration.shop_id, PersonContact.objects.get(pk=person.pk))
    assert member_status(emulator, api_key, list_id, person.email) == "transactional"
