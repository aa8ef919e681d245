"""Found by independent review aud28 (issue 19), F4 (consent, data loss): the erasure's rule for a member a contact left
under an old address (``ErasePlan._delete_member_left``) takes one subscribed or pending again for someone else's (its
owner's, on Mailchimp's own form: the contact's consent left with the member when it was archived) and keeps it,
cleared. The move back to that address does not: ``ContactPlan._back_at_member_left`` (reached from
``_arriving_at_held_member`` and ``_read_member_left``) recognises the member by its ``unique_email_id`` alone and makes
it the contact's own (``owned``) whatever happened to it since -- the same member Mailchimp brought back subscribed for
the mailbox's owner. The contact's send then writes its names over the owner's, and its later Unsubscribe ends the
owner's subscription (and its erasure would delete it for good: ``_delete_own_member``, the row's ``opt_in`` True)."""
import pytest
from shuup.core.models import PersonContact, get_person_contact

from tests.helpers import row_of, send_due
from tests.storefront.helpers import olga_subscribes_it_again, types_it_back_and_unsubscribes
from tests.storefront.test_move_onto_a_proven_address_leaves_its_member import _sam_moves

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
def test_a_move_back_never_takes_over_a_left_member_its_owner_subscribed_again_on_mailchimps_form(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block):
    """Sam registers at sam@ and subscribes (his member there, "Sam Private"). Ann registered and proved her address;
    Sam types Ann's address (consent still ticked): his member at sam@ is archived and remembered (members_left). Olga,
    who owns the mailbox sam@ (Sam's typo), subscribes on Mailchimp's own form: the archived member comes back
    subscribed (the same unique_email_id), and she types her names "Olga Real" there. Sam types sam@ again (the same
    typo) and, later, presses Unsubscribe on his account page. Expected: the member is Olga's (as Sam's erasure would
    take it: kept, "subscribed by its owner's consent since the contact left it"): her names and her subscription stay.
    Found: Sam's send writes "Sam Private" over her names, and his Unsubscribe unsubscribes her."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, _browser, own, _ann_email = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                                 "aud28f4", True)
    sam_uid = emulator.get_member(api_key, list_id, own)["unique_email_id"]
    assert emulator.get_member(api_key, list_id, own)["status"] == "archived", "setup"
    assert [entry["email"] for entry in row_of(get_person_contact(user)).members_left] == [own], "setup"
    olga_subscribes_it_again(mailchimp_account, own)
    member = emulator.get_member(api_key, list_id, own)
    assert (member["unique_email_id"], member["merge_fields"]["FNAME"]) == (sam_uid, "Olga"), (
        "setup: Olga subscribed the member Sam left on Mailchimp's form")
    names, member = types_it_back_and_unsubscribes(user, own, mailchimp_account)
    assert (member["status"], names["FNAME"], names["LNAME"]) == ("subscribed", "Olga", "Real"), (
        "Sam's move back to %s took the member Olga subscribed on Mailchimp's form for his own: its names after his "
        "move %r, its status after his Unsubscribe %r" % (own, (names["FNAME"], names["LNAME"]), member["status"]))


@pytest.mark.usefixtures("commits")
def test_a_move_back_then_an_erasure_never_deletes_a_left_member_its_owner_subscribed_again(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block):
    """As above; after typing sam@ again, Sam has his account deleted (GDPR erasure). Expected: Olga's subscription
    stays (as it does when Sam is erased before typing sam@ again:
    tests/storefront/test_erasure_of_a_left_member_resubscribed_by_its_owner.py). Found: the member is the row's own
    again (its ``email``, ``opt_in`` True), so ``ErasePlan._delete_own_member`` deletes it for good: Olga's
    subscription is gone, and the API can never add her address again."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, _browser, own, _ann_email = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                                 "aud28f4e", True)
    assert emulator.get_member(api_key, list_id, own)["status"] == "archived", "setup"
    emulator.fire_event(api_key, list_id, "subscribe", own)
    send_due(rounds=2)
    sam = PersonContact.objects.get(pk=get_person_contact(user).pk)
    sam.email = own  # the same typo again
    sam.save()
    send_due(rounds=3)
    sam.delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, own)
    assert member is not None and member["status"] == "subscribed", (
        "Sam's erasure deleted the subscription Olga made on Mailchimp's own form for %s: %r" % (own, member))
