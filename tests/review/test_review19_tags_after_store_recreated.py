"""review19: the store vanished from Mailchimp (deleted by hand there) and an admin presses Initialize again in
the same audience. ``initialize`` re-queues every contact with ``state.requeue_all``, which forgets the tags the
shop applied (``applied_tags``): the next member write finds the shop's own "customer" tag on the member and
files it as added by hand (``found_tags``). From then on the rule never removes it: a customer whose only order is
cancelled keeps the "customer" tag for good (the issue: tags "added and removed as facts change")."""
import pytest

from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, new_person, place_order, row_of

pytestmark = pytest.mark.django_db


def tag_names(mailchimp_account, contact):
    emulator, api_key, list_id = mailchimp_account
    return sorted(tag["name"] for tag in emulator.get_member(api_key, list_id, contact.email)["tags"])


def test_the_shops_tag_stays_the_shops_after_the_store_is_created_again(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(customer_tag="customer")
    person = new_person()
    order, _products = place_order(configuration.shop, person)
    drain()
    assert tag_names(mailchimp_account, person) == ["customer"]
    assert row_of(person).applied_tags == "customer"

    emulator.delete_store(api_key, configuration.store_id)  # by hand in Mailchimp
    configuration.refresh_from_db()
    initialize(configuration)  # the admin's Initialize: the same audience, the store created again
    make_all_due()
    drain()
    assert emulator.get_store(api_key, configuration.store_id) is not None

    order.set_canceled()  # no longer a customer: the shop's rule takes its tag away
    make_all_due()
    drain()
    assert tag_names(mailchimp_account, person) == [], (
        "the shop's own tag is kept as if added by hand (row: applied %r, found %r)"
        % (row_of(person).applied_tags, row_of(person).found_tags))
