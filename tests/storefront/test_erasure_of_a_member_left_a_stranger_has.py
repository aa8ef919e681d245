"""Found by independent review aud20 (issue 19): ``ErasePlan._delete_member_left`` (contact.py) keeps a member the
erased contact left under an old address whenever *any* other contact of the shop has that address now
(``members_left_held``), without asking whether that contact took the member as its own (proved the address, wrote
its data there) or was never even sent (no consent; the shop sends only consenting people). A contact the staff
add with the erased person's old address, or a stranger who types it into an account (Shuup does not verify it),
thus blocked the GDPR erasure: the erased person's names stayed in the audience for good, on a member nobody else
ever wrote. Now the member is kept for such a contact (the address is theirs too) without the erased person's data;
only one who took it as its own keeps it as it is (test_erasure_of_a_member_left_taken_by_its_owner.py)."""
import pytest
from shuup.core.models import PersonContact, get_person_contact

from shoop_mailchimp.models import MailchimpLogEntry
from tests.helpers import row_of, send_due
from tests.storefront.helpers import logged_in_account
from tests.storefront.test_move_onto_a_proven_address_leaves_its_member import _sam_moves

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("stranger", ["", "staff-added", "proven-not-sent"],
                         ids=["control-nobody-there", "tom-typed-it", "tom-proved-it-not-sent"])
def test_an_erasure_deletes_a_left_member_a_stranger_only_arrived_at(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, stranger):
    """Sam registers and subscribes (his own member, his names "Sam Private"). Ann registered and proved her
    address; Sam types Ann's address into his account: his own member is archived at his old address (remembered in
    members_left). Tom, a contact the staff add (nothing proven, no consent: never sent), is given Sam's old
    address; nothing of his reaches the member (or Tom registers with it and proves it, without consent: the shop
    sends only consenting people, so he is not sent either). Sam has his account deleted
    (GDPR erasure). Expected: Sam's names leave the audience: his own left member is deleted where nobody has the
    address (the control), and kept without his data for Tom. It was kept as it was, because another contact "has
    the address now"."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, browser, own, ann_email = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                               "left%s" % stranger[:5], True)
    assert emulator.get_member(api_key, list_id, own)["status"] == "archived"
    assert [m["email"] for m in row_of(get_person_contact(user)).members_left] == [own]
    if stranger == "staff-added":
        tom = PersonContact.objects.create(email=own, first_name="Tom")
        tom.add_to_shop(shop)
    elif stranger:
        logged_in_account(shop, django_user_model, "tom20%s" % stranger[:5], own, proven=True)
    if stranger:
        send_due(rounds=3)
        member = emulator.get_member(api_key, list_id, own)
        assert member["merge_fields"]["FNAME"] == "Sam", "Tom's send wrote the member: not this probe's case"
    get_person_contact(user).delete()
    send_due(rounds=3)
    left = emulator.get_member(api_key, list_id, own)
    assert (left is None) is not bool(stranger)
    assert left is None or left["merge_fields"].get("FNAME") != "Sam", (
        "Sam was erased, and his own member left at his old address keeps his names, because a stranger typed that "
        "address: %r" % ((left["status"], left["merge_fields"].get("FNAME"), left["merge_fields"].get("LNAME")),))


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("holder", [False, True], ids=["control-nobody-has-it", "tom-added-with-it"])
def test_erasure_never_clears_the_data_of_a_member_created_again_at_a_left_address(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, holder):
    """Found by review aud21 (F2, data loss). Sam registers and subscribes; Ann proved her address; Sam types Ann's
    address: his member
    at sam@ is archived and remembered in members_left. The marketer deletes that archived member for good (or
    Mailchimp does, as it does after a while). Olga, the real owner of the mailbox sam@ (Sam's typo of long ago, or
    a new owner), signs up on Mailchimp's own form with her names: a new member (another unique_email_id). The
    staff add Tom with that address (never sent: no consent). Sam has his account deleted. Expected: Olga's member,
    which never was Sam's, keeps her names -- as it does when nobody in the shop has the address (the control:
    ``_delete_member_left`` reads the member, sees another unique_email_id, keeps it). It was: because Tom has
    the address and never "took" the member, ``ErasePlan._clear_member_left`` PATCHes every mapped merge field
    empty without reading the member first: Olga's names were wiped by Sam's erasure."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, browser, own, ann_email = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                               "olga%d" % holder, True)
    sam_uid = emulator.get_member(api_key, list_id, own)["unique_email_id"]
    assert [m["email"] for m in row_of(get_person_contact(user)).members_left] == [own]
    emulator.edit_member_by_hand(api_key, list_id, own, delete=True)
    member, _ = emulator.fire_event(api_key, list_id, "subscribe", own, merges={"FNAME": "Olga", "LNAME": "Real"})
    assert member["unique_email_id"] != sam_uid and member["merge_fields"]["FNAME"] == "Olga"
    send_due(rounds=2)
    if holder:
        tom = PersonContact.objects.create(email=own, first_name="Tom")
        tom.add_to_shop(shop)
        send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, own)["merge_fields"]["FNAME"] == "Olga"
    get_person_contact(user).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, own)
    assert member is not None and member["merge_fields"].get("FNAME") == "Olga", (
        "Sam's erasure reached Olga's member at %s (never Sam's: another unique_email_id) and cleared her names: %r"
        % (own, member and member["merge_fields"]))


@pytest.mark.usefixtures("commits")
def test_an_erasure_goes_on_when_mailchimp_refuses_to_clear_a_left_member(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block):
    """As with Tom above, but Mailchimp refuses to edit the archived member Sam left (as it may keep archived
    contacts as they are): the erasure does not fail for good on it; Sam's customer is deleted, and the log says what
    was refused."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, browser, own, ann_email = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                               "refused", True)
    sam_id = get_person_contact(user).pk
    PersonContact.objects.create(email=own, first_name="Tom").add_to_shop(shop)
    send_due(rounds=3)
    assert emulator.get_customer(api_key, configuration.store_id, str(sam_id)) is not None
    emulator.faults.fail("/lists/%s/members/*" % list_id, status=400, method="PATCH", title="Invalid Resource",
                         detail="This contact is archived.")
    get_person_contact(user).delete()
    send_due(rounds=3)
    assert emulator.get_customer(api_key, configuration.store_id, str(sam_id)) is None
    assert MailchimpLogEntry.objects.filter(action="member.kept", message__contains="refused to clear").exists()


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("tom_erased", [False, True], ids=["tom-stays", "tom-erased-too"])
def test_an_erasure_deletes_a_left_member_whose_only_other_contact_is_erased_too(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, tom_erased):
    """As above, with Tom sent at Sam's old address (the shop sends everyone now: his row last sent it, the member
    not his, left archived).
    When Tom's account is deleted in the same breath as Sam's, nobody is left who may have the member: it is deleted
    (an erased row keeps no member for itself); while Tom stays, it is kept for him, without Sam's names."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, browser, own, ann_email = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                               "both%d" % tom_erased, True)
    configuration.send_unconsented = True
    configuration.save()
    tom = PersonContact.objects.create(email=own, first_name="Tom")
    tom.add_to_shop(shop)
    send_due(rounds=3)
    assert row_of(tom).email == own and row_of(tom).foreign_member is True
    if tom_erased:
        PersonContact.objects.filter(pk=tom.pk).delete()
    get_person_contact(user).delete()
    send_due(rounds=3)
    left = emulator.get_member(api_key, list_id, own)
    if tom_erased:
        assert left is None, "Sam and Tom were both erased, and the member at Sam's old address stays: %r" % (
            (left["status"], left["merge_fields"].get("FNAME")),)
    else:
        assert left is not None and left["merge_fields"].get("FNAME") != "Sam"
