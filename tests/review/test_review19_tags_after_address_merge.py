"""review19: a customer (tagged "customer" by the shop's rule) changes their e-mail in the shop to an address that
already has a member of its own in the audience (they had signed up to the newsletter with it). The plan archives
the old member and writes the one under the new address, but keeps the row's ``applied_tags`` of the OLD member:
the shop believes the new member carries "customer", so the tag is never added there. The rule says the member
is a customer; Mailchimp's segment of customers misses them."""
import pytest

from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import new_person, place_order, row_of

pytestmark = pytest.mark.django_db


def tag_names(emulator, api_key, list_id, email):
    return sorted(tag["name"] for tag in emulator.get_member(api_key, list_id, email)["tags"])


def test_a_customer_moving_to_an_address_with_its_own_member_keeps_the_rules_tag(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(customer_tag="customer")
    person = new_person(email="old.address@fastmail.com")
    place_order(configuration.shop, person)
    drain()
    assert tag_names(emulator, api_key, list_id, "old.address@fastmail.com") == ["customer"]
    emulator.add_members(api_key, list_id, ["new.address@fastmail.com"])  # signed up on a Mailchimp form

    person.email = "new.address@fastmail.com"
    person.save()
    drain()
    assert row_of(person).email == "new.address@fastmail.com"
    assert tag_names(emulator, api_key, list_id, "new.address@fastmail.com") == ["customer"], (
        "the rule gives the member the tag, but the shop takes the old member's tag for the new one's "
        "(row applied %r)" % row_of(person).applied_tags)


def test_a_hand_made_tag_on_the_member_moved_into_is_never_removed(configuration, mailchimp_account):
    """The same move, where the marketer had tagged the other member "customer" by hand: when the customer's only
    order is cancelled, the shop removes that hand-made tag, taking it for the one it applied to the old member."""
    import requests

    from shoop_mailchimp.mailchimp.members import subscriber_hash

    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(customer_tag="customer")
    person = new_person(email="first.address@fastmail.com")
    order, _products = place_order(configuration.shop, person)
    drain()
    emulator.add_members(api_key, list_id, ["second.address@fastmail.com"])
    tags_url = "%s/lists/%s/members/%s/tags" % (emulator.base_url, list_id,
                                                 subscriber_hash("second.address@fastmail.com"))
    response = requests.post(tags_url, auth=("any", api_key), timeout=10,
                             json={"tags": [{"name": "customer", "status": "active"}]})
    assert response.status_code == 204  # the marketer's own tag

    person.email = "second.address@fastmail.com"
    person.save()
    drain()
    order.set_canceled()
    drain()
    assert tag_names(emulator, api_key, list_id, "second.address@fastmail.com") == ["customer"], (
        "the shop removed a tag the marketer added by hand")
