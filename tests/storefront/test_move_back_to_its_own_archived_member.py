"""Found by independent review aud20 (issue 19): a contact whose move onto an address another contact proved archived
its own member (``ContactPlan._onto_anothers_proven_address``, contact.py; remembered in ``SyncState.members_left``)
and who then types its own address back is never subscribed again: the move back goes through
``_new_address_apart`` ("the member of <proven address> was not this contact's"), which reads the member under the
contact's own old address as someone else's (``_arriving_at_held_member``: "Mailchimp held one there already") though
``members_left`` says it is the contact's own, and the write leaves it archived ("left archived, and the customer was
not sent"). The shop's account page showed the contact subscribed; Mailchimp never mailed them again (until they
pressed Subscribe again: the control case). Now the member is known as the contact's own, dropped from the members
left, and asked to confirm (pending: a member who left comes back by confirming)."""
from datetime import timedelta

import pytest
from shuup.core.models import PersonContact, get_person_contact

from shoop_mailchimp.models import SyncState
from tests.helpers import row_of, send_due
from tests.storefront.helpers import choose
from tests.storefront.test_move_onto_a_proven_address_leaves_its_member import _sam_moves

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("subscribe_again, claimed_apart", [(False, True), (False, False), (True, True)],
                         ids=["consent-kept", "consent-kept-claimed-together", "subscribes-again"])
def test_a_contact_moving_back_to_its_own_archived_member_is_subscribed_again(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, subscribe_again,
        claimed_apart):
    """Sam registers and subscribes on his account page (his own member, subscribed). Ann registered and proved her
    address. Sam types Ann's address into his account: his own member is archived under his address (remembered in
    members_left). Sam notices the mistake and types his own address back (consent still ticked; in the second case
    he also presses Subscribe again on his account page: the control). Expected: his own member at his own address
    is subscribed, or pending (asking him to confirm): his member, his address, his consent. It stayed archived in
    Mailchimp for good, and the row recorded 'archived': Sam's consent never reached Mailchimp."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, browser, own, ann_email = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                               "back%d%d" % (subscribe_again, claimed_apart), True)
    assert emulator.get_member(api_key, list_id, own)["status"] == "archived"  # the fix under review did this
    sam = PersonContact.objects.get(pk=get_person_contact(user).pk)
    # Sam's own member carries his first claim's second; Ann's row was first claimed in another second, or in his
    # (either way, his member left there is known as his by its unique_email_id).
    SyncState.objects.filter(shop=shop).exclude(object_id=sam.pk).update(
        first_claimed_at=row_of(sam).first_claimed_at + timedelta(seconds=5 if claimed_apart else 0))
    sam.email = own
    sam.save()
    send_due(rounds=3)
    if subscribe_again:
        choose(browser, subscribe=True)
        send_due(rounds=3)
    row = row_of(get_person_contact(user))
    member = emulator.get_member(api_key, list_id, own)
    assert member is not None and member["merge_fields"]["FNAME"] == "Sam"
    assert member["status"] in ("subscribed", "pending"), (
        "Sam consents and is back at his own address, and his own member there stays %r (row: email %r, "
        "member_status %r, members_left %r): he is never mailed again" % (
            member["status"], row.email, row.member_status, getattr(row, "members_left", None)))
    assert row.members_left == [] and row.foreign_member is False


@pytest.mark.usefixtures("commits")
def test_a_move_back_never_asks_a_confirmation_of_an_unsubscribe_made_after_the_consent(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block):
    """Found by review aud21 (F3, consent). Sam registers and subscribes on his account page (consent given once, at
    the start). Ann proved
    her address; Sam types Ann's address into his account: his member at sam@ is archived (members_left). The
    owner of the mailbox sam@ then subscribes on Mailchimp's own form (the archived member comes back, the same
    unique_email_id) and later unsubscribes there: both webhooks find no contact of the shop at sam@ (Sam's row is
    at Ann's address), so the shop's consent, given before that unsubscribe, stays. Sam types his own address back
    (nothing new ticked). Expected: the unsubscribe made in Mailchimp after the only consent the shop holds stands:
    the member stays unsubscribed, no confirmation e-mail. It was: ``_back_at_member_left`` takes the member's
    status as read ("unsubscribed", in consent.LEFT) and ``run`` asks ``pending`` with the old consent: Mailchimp
    mails a confirmation request to someone who unsubscribed after it. (Rows claimed in the same second, as in
    the commit's own test, so that the signup-time recognition of F1 does not hide the path.)"""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, browser, own, ann_email = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                               "unsubback", True)
    assert emulator.get_member(api_key, list_id, own)["status"] == "archived"
    emulator.fire_event(api_key, list_id, "subscribe", own)
    send_due(rounds=2)
    member, _ = emulator.fire_event(api_key, list_id, "unsubscribe", own)
    send_due(rounds=2)
    assert member["status"] == "unsubscribed"
    sam = PersonContact.objects.get(pk=get_person_contact(user).pk)
    assert sam.marketing_permission and [m["unique_email_id"] for m in row_of(sam).members_left] == [
        member["unique_email_id"]]
    # Another row of the shop first claimed in Sam's second (as happens on a busy shop).
    SyncState.objects.exclude(pk=row_of(sam).pk).filter(first_claimed_at__isnull=False).update(
        first_claimed_at=row_of(sam).first_claimed_at)
    mails_before = len(emulator.confirmations(api_key, list_id))
    sam.email = own
    sam.save()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, own)
    mailed = emulator.confirmations(api_key, list_id)[mails_before:]
    assert member["status"] == "unsubscribed" and not mailed, (
        "The owner of %s unsubscribed in Mailchimp after the only consent the shop holds; Sam's move back made the "
        "member %r and mailed %r" % (own, member["status"], mailed))
