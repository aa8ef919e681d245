"""Found by independent review aud32 (issue 19), F4 (data): the shop's rule tags on a member that two contacts of the
shop share (the newsletter block's contact and an account registered later with the address)."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, new_person, place_order, row_of

pytestmark = pytest.mark.django_db


def tag_names(member):
    return sorted(tag["name"] for tag in member["tags"])


@pytest.mark.usefixtures("commits")
def test_a_cancelled_only_order_takes_the_customer_tag_away_from_a_shared_member(configuration, mailchimp_account):
    """Harm: a person whose only order was cancelled stays tagged ``customer`` in Mailchimp for good, so the
    marketer's customer journeys and customer-only campaigns keep mailing them as a buyer.

    Steps: *Tag for customers* = ``customer``. Ann subscribes in the newsletter block (contact B, the member is B's),
    later registers an account with the same address (contact A, address not proven: a shop without activation)
    and places an order. Staff correct B's name: B's send carries the tags of all the shop's contacts with the
    address, so it adds ``customer`` (B's row ``applied_tags``); A's row records it ``found``. The order is
    cancelled: ``receivers/orders.py: order_saved`` queues only the order's customer A, whose sends leave the
    member's tags alone (its ``found`` tag is never removed); B, whose row applied the tag, is not queued, so the tag
    stays though no contact of the address has an order left (it goes only if B happens to be saved again)."""
    from shoop_mailchimp.storefront.subscriptions import subscribe_address
    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(customer_tag="customer")
    email = "shared.tags@fastmail.com"
    subscribe_address(configuration.shop, email, first_name="Ann")
    drain()
    block_contact = PersonContact.objects.get(email=email)
    account = new_person(email=email, permission=True)
    make_all_due()
    drain()
    order, _products = place_order(configuration.shop, account)
    make_all_due()
    drain()
    block_contact.first_name = "Anne"  # staff correct the block contact's name
    block_contact.save()
    make_all_due()
    drain()
    assert tag_names(emulator.get_member(api_key, list_id, email)) == ["customer"]
    assert row_of(block_contact).applied_tags == "customer"

    order.set_canceled()
    make_all_due()
    drain()
    make_all_due()
    drain()
    assert tag_names(emulator.get_member(api_key, list_id, email)) == [], (
        "the member keeps the shop's customer tag after the address's only order was cancelled")


@pytest.mark.usefixtures("commits")
def test_leaving_a_tag_group_takes_its_tag_away_from_a_shared_member(configuration, mailchimp_account):
    """Harm: as above for *Contact groups as Mailchimp tags*: Ann leaves the shop's "Wholesale" group (staff remove
    her account from it), yet the member keeps the group's tag for good and she keeps receiving the group's
    campaigns. The block contact B applied the tag (tags are of all the shop's contacts with the address); the
    group change queues only the account A (``receivers/groups.py``), whose row found the tag and removes nothing."""
    from shuup.testing.factories import create_random_contact_group

    from shoop_mailchimp.storefront.subscriptions import subscribe_address
    emulator, api_key, list_id = mailchimp_account
    group = create_random_contact_group(shop=configuration.shop)
    group_tag = group.safe_translation_getter("name", any_language=True)
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(tag_group_ids=[group.pk])
    email = "shared.group.tags@fastmail.com"
    subscribe_address(configuration.shop, email, first_name="Ann")
    drain()
    block_contact = PersonContact.objects.get(email=email)
    account = new_person(email=email, permission=True)
    make_all_due()
    drain()
    group.members.add(account)
    make_all_due()
    drain()
    block_contact.first_name = "Anne"  # staff correct the block contact's name
    block_contact.save()
    make_all_due()
    drain()
    assert tag_names(emulator.get_member(api_key, list_id, email)) == [group_tag]
    assert row_of(block_contact).applied_tags == group_tag

    group.members.remove(account)
    make_all_due()
    drain()
    make_all_due()
    drain()
    assert tag_names(emulator.get_member(api_key, list_id, email)) == [], (
        "the member keeps the group's tag after no contact of the address is in the group")
