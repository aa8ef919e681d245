"""Found by independent review aud23 (issue 19, consent): a contact moving from an address whose member is its own onto
an address where it left a member earlier goes through ``ContactPlan._move_member``'s "member exists" branch
(contact.py): the PATCH moving its member is refused (the address has one), ``_read_member_left`` recognises the
member it left (same unique_email_id), and then, because the contact consents, ``status_found`` (read:
"unsubscribed") is not subscribed or pending, so the branch asks ``pending`` -- whatever happened to the member
since the contact left it. The owner of that mailbox unsubscribed in Mailchimp after the only consent the shop
holds; the move back mails them a confirmation request anyway. The same move back from an address that was not the
contact's own (``_new_address_apart``: review aud21 F3) leaves the unsubscribe standing, as docs/sync.rst says: "one
unsubscribed or cleaned since stays so"."""
import pytest
from shuup.core.models import PersonContact, get_person_contact

from tests.helpers import row_of, send_due
from tests.storefront.test_move_onto_a_proven_address_leaves_its_member import _sam_moves

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("event", ["unsubscribe", "cleaned"])
@pytest.mark.parametrize("via_own", [False, True], ids=["control-back-from-anns", "back-from-his-own-new-address"])
def test_a_move_back_from_an_owned_address_never_asks_a_confirmation_of_a_later_unsubscribe(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, via_own, event):
    """Sam registers and subscribes (consent given once, at the start). Ann proved her address; Sam types Ann's
    address: his member at sam@ is archived (members_left). The owner of the mailbox sam@ subscribes on Mailchimp's
    own form and later unsubscribes there (the same member, the same unique_email_id). Sam then types a new address
    of his, sam.new@ (his member there, created by his consent), and later his old sam@ back (nothing new ticked).
    Expected: the unsubscribe made after the only consent the shop holds stands: sam@ stays unsubscribed and no
    confirmation request is mailed (as when he types sam@ straight back from Ann's address: the control). It was:
    the move from sam.new@ runs into the member at sam@, and ``_move_member`` asks it pending."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, browser, own, ann_email = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                               "via%d%s" % (via_own, event[:3]), True)
    assert emulator.get_member(api_key, list_id, own)["status"] == "archived"
    emulator.fire_event(api_key, list_id, "subscribe", own)
    send_due(rounds=2)
    member, _ = emulator.fire_event(api_key, list_id, event, own)
    send_due(rounds=2)
    left_as = member["status"]
    assert left_as in ("unsubscribed", "cleaned")
    sam = PersonContact.objects.get(pk=get_person_contact(user).pk)
    if via_own:
        new = "sam.new%s.aud23@fastmail.com" % event[:3]
        sam.email = new
        sam.save()
        send_due(rounds=3)
        row = row_of(sam)
        assert row.email.lower() == new and row.foreign_member is False, (row.email, row.foreign_member)
        assert emulator.get_member(api_key, list_id, new)["status"] in ("subscribed", "pending")
    sam = PersonContact.objects.get(pk=sam.pk)
    assert sam.marketing_permission and [m["unique_email_id"] for m in row_of(sam).members_left] == [
        member["unique_email_id"]]
    mails_before = len(emulator.confirmations(api_key, list_id))
    sam.email = own
    sam.save()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, own)
    mailed = emulator.confirmations(api_key, list_id)[mails_before:]
    assert member["status"] == left_as and not mailed, (
        "The owner of %s was %s in Mailchimp after the only consent the shop holds; Sam's move back made the "
        "member %r and mailed %r" % (own, left_as, member["status"], mailed))
