"""Found by independent review aud39 (issue 19) of commit 96f8510, a check that held: the follow of
``_member_moved_meanwhile`` on an address change does not ask whether the member the row names is the contact's own
(``owned``): a stranger's member, which the contact only sat on, is taken from the address its owner moved it to in
Mailchimp."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncStatus
from tests.helpers import row_of, send_due

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("moved", [False, True], ids=["control", "stranger-moved-in-mailchimp"])
def test_a_strangers_member_is_not_moved_to_a_contacts_new_address(shop, configuration, mailchimp_account, moved):
    """Sue subscribed on Mailchimp's own signup form. The staff add a contact, Tom, with Sue's address (a typo; no
    consent): his send finds Sue's member and leaves it alone (not his; the row records its ``unique_email_id``).
    Sue changes her address in Mailchimp's profile page (her upemail is late, or names no contact of the shop as
    hers). Then the staff correct Tom's address. The send finds no member at the address Tom leaves, looks Sue's
    member up by its ``unique_email_id``, finds it at Sue's new address (no contact of the shop has it) and PATCHes it
    to Tom's address: Sue's subscription (her consent) now mails Tom, who never consented, and Sue, who did, gets
    nothing. Control: Sue did not move: her member stays at her address, Tom's is his own."""
    emulator, api_key, list_id = mailchimp_account
    sues, sues_new, toms = ("%s.%d@fastmail.com" % (which, moved) for which in ("sue.aud39", "sue.new.aud39",
                                                                                  "tom.aud39"))
    emulator.fire_event(api_key, list_id, "subscribe", sues)
    tom = PersonContact.objects.create(first_name="Tom", email=sues, marketing_permission=False)
    tom.add_to_shop(shop)
    send_due(rounds=2)
    sue_member = emulator.get_member(api_key, list_id, sues)
    assert sue_member["status"] == "subscribed"
    assert row_of(tom).status == SyncStatus.SYNCED and row_of(tom).unique_email_id == sue_member["unique_email_id"], (
        "setup: the row records the member it sat on")
    sue_at = sues
    if moved:
        emulator.fire_event(api_key, list_id, "upemail", sues, new_email=sues_new)
        sue_at = sues_new
    tom = PersonContact.objects.get(pk=tom.pk)
    tom.email = toms
    tom.save()
    send_due(rounds=3)
    at_sue = emulator.get_member(api_key, list_id, sue_at)
    at_tom = emulator.get_member(api_key, list_id, toms)
    assert at_sue is not None and at_sue["status"] == "subscribed", (
        "Sue's member is gone from her address %s; at Tom's (%s): %s" % (
            sue_at, toms, at_tom and (at_tom["status"], at_tom["unique_email_id"] == sue_member["unique_email_id"])))
    assert at_tom is None or at_tom["status"] not in ("subscribed", "pending"), "Tom (no consent) is %s" % (
        at_tom["status"])
