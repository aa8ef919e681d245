"""Found by independent review aud33 (issue 19), F2 (data): e3b2394 queues the address's other sent contacts when an
order or a group changes the facts of one of them (``receivers/recording.py: record_facts_changed``), because the member
two contacts share is written, tags and all, by the one that owns it. An order moved to another customer in Shuup's
order editor is the one order change that does not pass there: the order's plan sends the first customer again
(``sync/kinds/order.py: with_customer``, ``outcome.requeue`` of ``[previous]`` only), not the contact that owns the
member it shares, so the shared member keeps the ``customer`` tag (and the spent merge fields) of an order it no longer
has. Set-up as tests/sync/test_tags_on_a_shared_address.py."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, new_person, place_order, row_of

pytestmark = pytest.mark.django_db


def tag_names(member):
    return sorted(tag["name"] for tag in member["tags"])


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("how", ["cancelled-control", "moved-to-another-customer"])
def test_an_order_moved_away_takes_the_customer_tag_from_a_shared_member(configuration, mailchimp_account, how):
    """Harm: Ann's only order was placed on her account by mistake and the staff move it to the right customer (Shuup's
    order editor); Ann's member keeps the ``customer`` tag for good, so customer-only campaigns and journeys keep
    mailing her as a buyer. Steps: *Tag for customers* = ``customer``. Ann subscribes in the newsletter block (contact
    B owns the member), registers an account A with the address and places an order; staff correct B's name (B's
    send adds ``customer``, which B's row applied). The order is then moved to another customer. Expected (as for a
    cancellation, the control): the tag goes. Found: only A is sent again, whose row only found the tag."""
    from shoop_mailchimp.storefront.subscriptions import subscribe_address
    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(customer_tag="customer")
    email = "shared.moved.%s.aud33@fastmail.com" % how[:4]
    subscribe_address(configuration.shop, email, first_name="Ann")
    drain()
    block_contact = PersonContact.objects.get(email=email)
    account = new_person(email=email, permission=True)
    make_all_due()
    drain()
    order, _products = place_order(configuration.shop, account)
    make_all_due()
    drain()
    block_contact.first_name = "Anne"
    block_contact.save()
    make_all_due()
    drain()
    assert tag_names(emulator.get_member(api_key, list_id, email)) == ["customer"], "setup"
    assert row_of(block_contact).applied_tags == "customer", "setup"

    if how == "cancelled-control":
        order.set_canceled()
    else:
        right = new_person()
        order.customer = right
        order.orderer = right
        order.save()
    for _round in range(3):
        make_all_due()
        drain()
    assert tag_names(emulator.get_member(api_key, list_id, email)) == [], (
        "the shared member keeps the shop's customer tag after the address's only order was %s" % how)
