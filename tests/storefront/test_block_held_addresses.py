"""A guest buyer's address (or a member Mailchimp holds that the shop never knew) typed into the newsletter block:
its owner confirms or the admin withdraws later, and the sends refused once (429, 5xx) are tried again without
subscribing it or renaming it with the typed names (held under the fourth review of issue 19, aud6)."""
import pytest
from django.test import Client
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.storefront.subscriptions import subscribe_address
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import member_writes, row_of, send_due
from tests.sync.test_guest_orders import guest_order
from tests.webhooks.helpers import post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def typed_and_confirmed(shop, configuration, emulator, api_key, list_id, email, **names):
    """A guest buyer of ``email`` (Gil Guest); a stranger types the address into the block; Gil clicks the link
    Mailchimp mails (the webhook records the consent). Returns the block's contact."""
    guest_order(shop, email)
    drain()
    subscribe_address(shop, email, **names)
    send_due()
    assert emulator.get_member(api_key, list_id, email)["status"] == "pending"
    emulator.set_member_status(api_key, list_id, email, "subscribed")
    assert post_event(Client(), configuration, "subscribe", email=email).status_code == 200
    person = PersonContact.objects.get(email=email)
    assert person.marketing_permission is True
    assert row_of(person).consent_request == ""
    return person


def test_a_guest_buyer_who_confirms_keeps_their_names_when_the_contact_is_sent_again(
        shop, configuration, mailchimp_account):
    """The block's nameless contact sent again after the confirmation (the admin gives it a phone): the member
    stays subscribed with the buyer's names, not the typed ones."""
    emulator, api_key, list_id = mailchimp_account
    email = "gil.confirms@fastmail.com"
    person = typed_and_confirmed(shop, configuration, emulator, api_key, list_id, email,
                                 first_name="Fake", last_name="Typed")
    person.phone = "+358 40 1"
    person.save()
    send_due()
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == "subscribed"
    assert (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == ("Gil", "Guest")


def test_the_admin_withdrawing_a_confirmed_guest_buyers_consent_unsubscribes_them(
        shop, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    email = "gil.withdrawn@fastmail.com"
    person = typed_and_confirmed(shop, configuration, emulator, api_key, list_id, email)
    person = PersonContact.objects.get(pk=person.pk)
    person.marketing_permission = False
    person.save()
    send_due()
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed"


@pytest.mark.parametrize("method,status", [("GET", 429), ("GET", 503), ("PUT", 429), ("PUT", 503)])
@pytest.mark.parametrize("known", ["guest", "mailchimp"])
def test_a_signup_for_a_held_address_refused_once_is_asked_pending_without_the_typed_names(
        shop, configuration, mailchimp_account, method, status, known):
    """The member read (GET) or write (PUT) refused once: tried again, the member is pending (never subscribed),
    keeps the buyer's names, and no member PUT carried the typed names."""
    emulator, api_key, list_id = mailchimp_account
    email = "gil.retry@fastmail.com"
    if known == "guest":
        guest_order(shop, email)
        drain()
    else:  # a member Mailchimp holds that the shop never knew: the SIGNUP send reads it first
        emulator.add_members(api_key, list_id, [email], status="transactional",
                             merge_fields={"FNAME": "Gil", "LNAME": "Guest"})
    emulator.clear_requests()
    emulator.faults.fail("*/members/*", status=status, method=method, times=1)
    subscribe_address(shop, email, first_name="Fake", last_name="Typed")
    send_due(rounds=3)
    if known == "mailchimp" or method == "PUT":
        assert any(r["status"] == status and r["method"] == method and "/members/" in r["path"]
                   for r in emulator.requests), "the fault never fired"
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == "pending", member["status"]
    assert (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == ("Gil", "Guest")
    assert not any("Fake" in str(r["body"]) for r in member_writes(emulator, email))
    assert row_of(PersonContact.objects.get(email=email)).status == SyncStatus.SYNCED


@pytest.mark.parametrize("status", [429, 503])
def test_a_new_address_signup_refused_once_is_subscribed_with_its_names(shop, configuration, mailchimp_account,
                                                                        status):
    """Single opt-in: a new address's member PUT refused once; tried again, it is subscribed with the typed names."""
    emulator, api_key, list_id = mailchimp_account
    email = "new.retry@fastmail.com"
    emulator.faults.fail("*/members/*", status=status, method="PUT", times=1)
    subscribe_address(shop, email, first_name="Nina", last_name="New")
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == "subscribed"
    assert member["merge_fields"].get("FNAME") == "Nina"
