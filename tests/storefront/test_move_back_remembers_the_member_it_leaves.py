"""Found by independent review aud24 (issue 19), F1 (data: an erased person's names stay). ``ContactPlan._move_member``
(contact.py), the "member exists" branch: the move's PATCH is refused because the new address has a member, so the
member under the old address is archived and remembered (``_left_behind`` sets ``self.members_left`` = row's left
members + the old address). Then ``_read_member_left`` recognises the member at the new address as one the contact
left there earlier, and ``_back_at_member_left`` sets ``self.members_left`` again from the ROW's ``members_left``
(minus the member it is back at): the entry ``_left_behind`` just added is dropped. (The same happens in ``run``
after the move branches when the contact's owner proved the new address: ``_read_member_left`` after
``_left_behind``.) The member just archived -- the contact's own, with its names -- is remembered nowhere: the
contact's erasure never deletes it."""
import pytest
from shuup.core.models import PersonContact, get_person_contact

from shoop_mailchimp import shop_consent
from tests.helpers import row_of, send_due
from tests.storefront.test_move_onto_a_proven_address_leaves_its_member import _sam_moves

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("sam_proved", [False, True], ids=["move-member-exists-branch", "sam-proved-his-address"])
def test_an_erasure_deletes_the_member_a_move_back_archived(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, sam_proved):
    """Sam registers and subscribes (his member at sam@, names "Sam Private"). Ann proved her address; Sam types it
    by mistake: his member at sam@ is archived and remembered as left. He then types a new address of his, new@
    (Mailchimp has none there): his own member is created there with his names. Then he types sam@ back (consent
    still ticked): the move from new@ to sam@ finds his archived member at sam@, so new@ is archived (his member,
    his names) and sam@ is known as his again. Sam then has his account deleted. Expected: no member with his names
    stays in the audience. Found: the member at new@ (archived, FNAME Sam, LNAME Private) stays for good: the move
    back forgot it (row.members_left == []). Second case: Sam proved sam@ (the activation link): the same loss
    through ``run``'s ``_read_member_left`` after the move branches."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, browser, own, ann_email = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                               "f1aud24%d" % sam_proved, True)
    assert emulator.get_member(api_key, list_id, own)["status"] == "archived"
    new = "sam.new.f1.%d.aud24@fastmail.com" % sam_proved
    sam = PersonContact.objects.get(pk=get_person_contact(user).pk)
    if sam_proved:
        shop_consent.record_proof(sam.pk, own)
    sam.email = new
    sam.save()
    send_due(rounds=3)
    at_new = emulator.get_member(api_key, list_id, new)
    assert at_new is not None and at_new["merge_fields"]["FNAME"] == "Sam", at_new
    assert row_of(sam).foreign_member is False
    sam = PersonContact.objects.get(pk=sam.pk)
    sam.email = own
    sam.save()
    send_due(rounds=3)
    row = row_of(sam)
    assert row.email.lower() == own.lower()
    assert emulator.get_member(api_key, list_id, new)["status"] == "archived"
    left = [m["email"] for m in row.members_left or []]
    get_person_contact(user).delete()
    send_due(rounds=3)
    stays = [(email, member["status"], member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME"))
             for email in (own, new) for member in (emulator.get_member(api_key, list_id, email),)
             if member is not None and (member["merge_fields"].get("FNAME") or member["merge_fields"].get("LNAME"))]
    assert not stays, ("Sam was erased, and a member of his with his names stays in the audience: %r (his row's "
                       "members_left after the move back: %r)" % (stays, left))
