"""Found by independent review aud30 (issue 19), F2 (consent, data): ``ContactPlan._left_behind`` (034ca3d) learns the
status of the member a contact leaves by reading it again after its archive (a GET). When that one read fails (a 500, a
429 rate limit, an outage of a second), the error is swallowed (``except MailchimpAPIError: member = None``) and the
entry is recorded without a status, exactly as a legacy entry; ``_back_at_member_left`` then takes a missing status for
``subscribed`` (``entry.get("status", members.SUBSCRIBED)``). The member was just archived by this very send (the DELETE
before the read), so its status is known without the read; yet the move back takes the member its mailbox owner
subscribed again on Mailchimp's own form for the contact's own, as before the fix of aud28 F4."""
import pytest
from shuup.core.models import PersonContact, get_person_contact

from shoop_mailchimp.testing.emulator.state import subscriber_hash
from tests.helpers import row_of, send_due
from tests.storefront.helpers import (
    logged_in_account,
    olga_subscribes_it_again,
    presses_on_account_page,
    registered_account,
    types_it_back_and_unsubscribes,
)

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("read_fails", [False, True], ids=["control-read-answers", "read-after-archive-fails"])
def test_a_move_back_never_takes_a_left_member_its_owner_resubscribed_when_the_read_after_the_archive_failed(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, read_fails):
    """Sam registers at sam@ (a typo: Olga's mailbox) and subscribes on his account page. Ann registered and proved
    her address; Sam types Ann's address: his send archives his member at sam@ (DELETE) and reads it to remember its
    status -- that one GET answers 500 once. Olga subscribes sam@ on Mailchimp's own form (the archived member comes
    back subscribed) and types her names there. Sam types sam@ again, then presses Unsubscribe. Expected (as in the
    control, where the read answered): the member is Olga's, her names and her subscription stay. Found: the entry
    has no status, the move back takes her member for Sam's own: his names go over hers and his Unsubscribe ends her
    subscription."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    configuration.send_unconsented = False
    configuration.save()
    ann_email = "ann.aud30f2.%d@fastmail.com" % read_fails
    logged_in_account(shop, django_user_model, "ann30f2%d" % read_fails, ann_email, proven=True)
    send_due(rounds=3)
    own = "sam.aud30f2.%d@fastmail.com" % read_fails
    user, sam = registered_account(shop, django_user_model, "sam30f2%d" % read_fails, own, first_name="Sam",
                                   last_name="Private")
    presses_on_account_page(user, subscribe=True)
    assert emulator.get_member(api_key, list_id, own)["status"] == "subscribed", "setup"
    if read_fails:
        emulator.faults.fail("*/members/" + subscriber_hash(own), status=500, method="GET", times=1)
    sam = PersonContact.objects.get(pk=sam.pk)
    sam.email = ann_email
    sam.save()
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, own)["status"] == "archived", "setup: Sam's member archived"
    entries = row_of(get_person_contact(user)).members_left
    assert [entry["email"] for entry in entries] == [own], "setup: remembered as left: %r" % entries
    olga_subscribes_it_again(mailchimp_account, own)
    names, member = types_it_back_and_unsubscribes(user, own, mailchimp_account)
    assert (member["status"], names["FNAME"], names["LNAME"]) == ("subscribed", "Olga", "Real"), (
        "Sam's move back took the member Olga subscribed on Mailchimp's form for his own (entry left: %r): its "
        "names after his move %r, its status after his Unsubscribe %r" % (
            entries, (names["FNAME"], names["LNAME"]), member["status"]))


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("read_fails", [False, True], ids=["control-read-answers", "read-after-archive-fails"])
def test_an_erasure_keeps_what_the_owner_typed_on_a_left_member_when_the_read_after_the_archive_failed(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, read_fails):
    """As above, up to Olga subscribing sam@ on Mailchimp's own form and typing her names there ("Olga Real"). Sam
    then deletes his account (erasure). Expected (as in the control, the read answered: the fields still holding
    Sam's data are cleared): the member stays subscribed with Olga's names. Found: the entry has no digests, so the
    erasure empties every field the shop fills: Olga's names are erased from her own subscription."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    configuration.send_unconsented = False
    configuration.save()
    ann_email = "ann.aud30f2e.%d@fastmail.com" % read_fails
    logged_in_account(shop, django_user_model, "ann30f2e%d" % read_fails, ann_email, proven=True)
    send_due(rounds=3)
    own = "sam.aud30f2e.%d@fastmail.com" % read_fails
    user, sam = registered_account(shop, django_user_model, "sam30f2e%d" % read_fails, own, first_name="Sam",
                                   last_name="Private")
    presses_on_account_page(user, subscribe=True)
    if read_fails:
        emulator.faults.fail("*/members/" + subscriber_hash(own), status=500, method="GET", times=1)
    sam = PersonContact.objects.get(pk=sam.pk)
    sam.email = ann_email
    sam.save()
    send_due(rounds=3)
    entries = row_of(get_person_contact(user)).members_left
    assert [entry["email"] for entry in entries] == [own], "setup: remembered as left: %r" % entries
    emulator.fire_event(api_key, list_id, "subscribe", own)
    emulator.fire_event(api_key, list_id, "profile", own, merges={"FNAME": "Olga", "LNAME": "Real"})
    send_due(rounds=2)
    PersonContact.objects.get(pk=sam.pk).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, own)
    assert member is not None and (member["status"], member["merge_fields"].get("FNAME"),
                                   member["merge_fields"].get("LNAME")) == ("subscribed", "Olga", "Real"), (
        "Sam's erasure erased what Olga typed on her own subscription (entry left: %r): %r" % (
            entries, member and (member["status"], member["merge_fields"])))
