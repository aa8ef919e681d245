"""An unsubscribe made in Mailchimp reaches the shop, and nothing the shop does later undoes it.

Only a new consent given in the shop (the marketing box ticked again) subscribes the person
again: that is a genuine new consent, sent as ``subscribed``.
"""
import pytest
from shuup.core.models import Contact
from shuup.testing.factories import (
    create_product,
    create_random_contact_group,
    create_random_order,
    create_random_person,
    get_default_supplier,
)

from shoop_mailchimp.models import MailchimpLogEntry, SyncKind, SyncState
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.state import record
from tests.webhooks.helpers import configure_with_live_webhook

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_configuration(settings, live_server, shop, mailchimp_settings, mailchimp_account):
    return configure_with_live_webhook(settings, live_server, shop, mailchimp_account)


def member_writes_for(emulator, email):
    return [
        r["body"] for r in emulator.requests
        if r["method"] in ("PUT", "PATCH", "POST") and "/members" in r["path"] and r["body"]
        and r["body"].get("email_address", "").lower() == email.lower()
    ]


def test_an_unsubscribe_in_mailchimp_is_never_undone_by_the_shop(live_configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    shop = live_configuration.shop
    product = create_product("mc-story-1", shop=shop, supplier=get_default_supplier(), default_price=10)
    contact = create_random_person()
    contact.marketing_permission = True
    contact.save()
    assert emulator.get_member(api_key, list_id, contact.email)["status"] == "subscribed"

    # The person unsubscribes from a Mailchimp e-mail; Mailchimp calls the shop.
    emulator.set_member_status(api_key, list_id, contact.email, "unsubscribed")
    outcome = emulator.deliver_webhook(api_key, list_id, "unsubscribe", {
        "action": "unsub", "reason": "manual", "email": contact.email, "email_type": "html",
        "merges": {"EMAIL": contact.email, "FNAME": contact.first_name, "LNAME": contact.last_name},
    })
    assert [status for _, status in outcome] == [200]
    assert Contact.objects.get(pk=contact.pk).marketing_permission is False
    state = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=contact.pk)
    assert (state.member_status, state.opt_in) == ("unsubscribed", False)
    emulator.clear_requests()

    contact = Contact.objects.get(pk=contact.pk)
    contact.first_name = "Renamed"
    contact.save()
    group = create_random_contact_group(shop=shop)
    group.members.add(contact)
    create_random_order(customer=contact, products=[product], shop=shop, random_products=False)
    SyncState.objects.filter(kind=SyncKind.CONTACT, object_id=contact.pk).update(fingerprint="")
    record(shop.pk, SyncKind.CONTACT, [contact.pk])
    drain(shop_id=shop.pk)

    sent = member_writes_for(emulator, contact.email)
    assert len(sent) >= 3  # the rename, the group and the forced resend did reach Mailchimp
    assert all("status" not in body for body in sent), sent
    assert emulator.get_member(api_key, list_id, contact.email)["status"] == "unsubscribed"
    assert emulator.orders(api_key, live_configuration.store_id)
    assert Contact.objects.get(pk=contact.pk).marketing_permission is False

    # A new consent given in the shop is genuine, but Mailchimp lets someone who unsubscribed back only
    # through its confirmation e-mail: the member becomes pending, and a confirmation is sent.
    contact = Contact.objects.get(pk=contact.pk)
    contact.marketing_permission = True
    contact.save()
    assert emulator.get_member(api_key, list_id, contact.email)["status"] == "pending"
    assert [c["email_address"] for c in emulator.confirmations(api_key)] == [contact.email]
    state = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=contact.pk)
    assert (state.member_status, state.opt_in) == ("pending", True)
    assert MailchimpLogEntry.objects.filter(action="member.confirmation", contact_id=contact.pk).exists()
