"""Found by independent review aud17 (issue 19): a contact that moves without consent onto an address Mailchimp holds
a member of leaves
its own member under the old address, and its row forgets it: a later erasure never reaches it."""
import pytest
from shuup.core.models import get_person_contact

from tests.helpers import send_due

pytestmark = pytest.mark.django_db



@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("moves_to", ["free-address", "held-address", "held-address-with-consent"])
def test_an_erased_contacts_old_member_left_behind_by_a_move_onto_a_held_address_is_deleted(
        shop, configuration, mailchimp_account, django_user_model, settings, moves_to):
    """Cid's account (no consent) is sent: its own member at cid's address, with his names. Cid changes the account's
    address to one Mailchimp already holds a member of (Ann's, subscribed on Mailchimp's own form; or a typo of his
    own address someone else subscribed): the move leaves his own member where it is (_arrived_at_shared: "the
    member under the old address is not moved onto it") and the row forgets it (it now tracks Ann's address, not
    its own member). Cid then has his account deleted (GDPR erasure): the erasure reaches only the address last
    sent (Ann's member, rightly left alone): Cid's own member, with his names, stays in the audience for good.
    Moving to a free address (the control), his member moves along and the erasure deletes it. Moving with consent
    onto a held address archives his own member there (the person lives at the new one): archived, it keeps his names
    too, and the erasure deletes it as well."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    own = "cid.own.%s.aud17@fastmail.com" % moves_to
    target = "ann.target.%s.aud17@fastmail.com" % moves_to
    if moves_to != "free-address":
        emulator.add_members(api_key, list_id, [target], status="subscribed", merge_fields={"FNAME": "Ann"})
    user = django_user_model.objects.create_user("cid17%s" % moves_to[:4], own, "pw")
    cid = get_person_contact(user)
    cid.first_name, cid.last_name = "Cid", "Private"
    cid.marketing_permission = moves_to == "held-address-with-consent"
    cid.save()
    cid.add_to_shop(shop)
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, own)["merge_fields"]["FNAME"] == "Cid"
    cid = get_person_contact(user)
    cid.email = target
    cid.save()
    send_due(rounds=3)
    get_person_contact(user).delete()
    send_due(rounds=3)
    left = emulator.get_member(api_key, list_id, own)
    assert left is None, "Cid was erased, and his own member (his names) stays in the audience: %r" % (
        left and (left["status"], left["merge_fields"].get("FNAME"), left["merge_fields"].get("LNAME")),)
    if moves_to != "free-address":
        assert emulator.get_member(api_key, list_id, target)["status"] == "subscribed"
