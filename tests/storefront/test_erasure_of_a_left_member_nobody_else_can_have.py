"""Found by independent review aud23 (issue 19, data, GDPR): ``members_left_shared`` (contact.py) counts every
SyncState row of the shop whose ``email`` is the left address (``rows_of_shop =
SyncState.objects.contacts().filter(shop_id=shop_id)``), erased rows included. When the erased person had a second
contact of the shop at that address (a duplicate account the staff made, a guest contact) and both are erased
together (the person asks the shop to forget them), the first erasure takes the other, itself being erased, for
"another contact of the shop" that may have the member: the member is only cleared of its merge fields and kept
(``_clear_member_left``), the second erasure leaves it as "not this contact's" (``foreign_member``), and nothing
ever deletes it. The erased person's address (with their language, groups and tags) stays in the audience for good,
though nobody in the shop has it any more."""
import pytest
from shuup.core.models import PersonContact, get_person_contact

from shoop_mailchimp.models import MailchimpConfiguration, MailchimpLogEntry, SyncState
from tests.helpers import row_of, send_due
from tests.storefront.test_move_onto_a_proven_address_leaves_its_member import _sam_moves

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("duplicate", [False, True], ids=["control-one-contact", "sams-second-contact"])
def test_erasing_both_of_a_persons_contacts_deletes_the_member_one_left(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, duplicate):
    """Sam registers and subscribes; Ann proved her address; Sam types Ann's address: his member at sam@ is
    archived (members_left). The staff had also made a second contact for Sam with sam@ (sent: the shop sends
    contacts without consent too, without their data onto a member it did not create). Sam asks to be forgotten: the
    staff delete both his contacts. Expected: his member at sam@ is deleted (nobody in the shop has the address any
    more), as it is when he had one contact (the control). It stays, with his address."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, browser, own, ann_email = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                               "dup%d" % duplicate, True)
    assert emulator.get_member(api_key, list_id, own)["status"] == "archived"
    assert [m["email"] for m in row_of(get_person_contact(user)).members_left] == [own]
    second = None
    if duplicate:
        MailchimpConfiguration.objects.filter(pk=configuration.pk).update(send_unconsented=True)
        second = PersonContact.objects.create(email=own, first_name="Sam", last_name="Private")
        second.add_to_shop(shop)
        send_due(rounds=3)
        assert SyncState.objects.get(object_id=second.pk).email.lower() == own, "the second contact was not sent"
    get_person_contact(user).delete()
    if second is not None:
        second.delete()
    send_due(rounds=4)
    assert not SyncState.objects.filter(shop=shop, erase=True).exclude(member_status="erased").exists()
    left = emulator.get_member(api_key, list_id, own)
    kept = list(MailchimpLogEntry.objects.filter(action="member.kept").values_list("message", flat=True))
    assert left is None, (
        "Both of Sam's contacts were erased and nobody in the shop has %s; his member there stays: %r; log: %r" % (
            own, (left["status"], left["merge_fields"], left.get("language"), left["interests"]), kept))


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("carl_left_one", [False, True], ids=["control-nobody-left-one", "carl-left-an-older-one"])
def test_an_older_member_left_at_the_address_never_keeps_the_erased_persons_member(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, carl_left_one):
    """``members_left_shared`` counts any contact whose members_left names the address, whatever member it left
    there (its unique_email_id is never compared). Carl subscribed with carl@ long ago and then typed Ann's proven
    address: his member at carl@ was archived (Carl's members_left: carl@, uid u0); the marketer deleted that archived
    member for good. Sam, the mailbox's new owner, signs up on Mailchimp's form (a new member, u1), registers with
    carl@, proves it (activation link) and subscribes on his account page: u1 is his own, with his names.
    Sam types Ann's address too: u1 archived (Sam's members_left). Sam asks to be forgotten.
    Expected: u1 is deleted, as when Carl never had the address (the control): Carl can never take u1 back (another
    unique_email_id), nobody in the shop has carl@ now. It is kept (cleared of merge fields only), with Sam's address,
    and stays for good: Carl's own erasure later finds "created again since" and keeps it too."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    from tests.storefront.helpers import choose, logged_in_account, presses_on_account_page, registered_account
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(send_unconsented=False)
    ann_email = "ann.older%d.aud23@fastmail.com" % carl_left_one
    logged_in_account(shop, django_user_model, "ann23old%d" % carl_left_one, ann_email, proven=True)
    send_due(rounds=3)
    mailbox = "carl.older%d.aud23@fastmail.com" % carl_left_one
    if carl_left_one:
        carl_user, carl = registered_account(shop, django_user_model, "carl23old", mailbox, first_name="Carl")
        presses_on_account_page(carl_user, subscribe=True)
        carl = PersonContact.objects.get(pk=carl.pk)
        carl.email = ann_email
        carl.save()
        send_due(rounds=3)
        assert [m["email"] for m in row_of(carl).members_left] == [mailbox]
        emulator.edit_member_by_hand(api_key, list_id, mailbox, delete=True)
        assert emulator.get_member(api_key, list_id, mailbox) is None
    # Mailchimp forgets a permanently deleted address: only its owner's own signup brings it back (a new member).
    emulator.fire_event(api_key, list_id, "subscribe", mailbox, merges={"FNAME": "Sam", "LNAME": "Private"})
    send_due(rounds=2)
    sam, browser = logged_in_account(shop, django_user_model, "sam23old%d" % carl_left_one, mailbox, proven=True)
    sam.first_name, sam.last_name = "Sam", "Private"
    sam.save()
    choose(browser, subscribe=True)
    send_due(rounds=3)
    user = sam.user
    member = emulator.get_member(api_key, list_id, mailbox)
    assert member["status"] == "subscribed" and member["merge_fields"]["FNAME"] == "Sam"
    assert row_of(sam).foreign_member is False and row_of(sam).unique_email_id == member["unique_email_id"]
    sam = PersonContact.objects.get(pk=sam.pk)
    sam.email = ann_email
    sam.save()
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, mailbox)["status"] == "archived"
    assert [m["email"] for m in row_of(sam).members_left] == [mailbox]
    get_person_contact(user).delete()
    send_due(rounds=3)
    left = emulator.get_member(api_key, list_id, mailbox)
    kept = list(MailchimpLogEntry.objects.filter(action="member.kept", message__contains=mailbox).values_list(
        "message", flat=True))
    assert left is None, (
        "Sam was erased; his own member at %s (Carl only ever left an older one there, deleted since) stays: %r; "
        "log: %r" % (mailbox, (left["status"], left["unique_email_id"]), kept))
