"""Found by independent review aud44 (issue 19) of 89842ba, F3 (data: an erasure missed the person's member; fixed: the
erasure also looks at the address a send noted, ``ErasePlan.noted_address``): an erasure after a move whose member write
at the new address was lost leaves the member that write created, with the erased person's names, in the audience.

``ErasePlan`` (contact.py) erases the member "by the e-mail last sent" (``row.email``), falling back on its
``unique_email_id`` and the members the row remembers leaving (``members_left``); it never looks at
``SyncState.move_sent_to``, the address a lost attempt noted it was writing to. A move off an address another contact of
the shop keeps creates a new member at the new address (``_new_address_apart``): its id is not the row's, the row's
address is still the old one (kept for the other contact, so only unsubscribed), and the new member is never found."""

import pytest
from shuup.core.models import PersonContact

from tests.helpers import moved_off_a_shared_address, row_of, send_due

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "new-address-answer-lost"])
def test_erasure_after_a_move_off_a_shared_address_whose_new_member_answer_was_lost(
        shop, configuration, mailchimp_account, settings, lost):
    """Paul (consents) and Queenie share a family address. Paul changes his address to his own: the send creates his new
    member there (a POST with his names); the POST lands and its answer is lost. Paul's account is then deleted (an
    erasure). Expected: no member with Paul's data is left in the audience (control: the POST answered, the erasure
    deletes his new member). Found: the member at Paul's own address stays, with his names (subscribed)."""

    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    family = "family.aud44erase.%d@fastmail.com" % lost
    own = "paul.aud44erase.%d@fastmail.com" % lost
    paul, queenie = moved_off_a_shared_address(mailchimp_account, family, own, lost, last_name="Erasable")
    assert emulator.get_member(api_key, list_id, own)["merge_fields"].get("FNAME") == "Paul", "setup"
    moved = row_of(paul)
    PersonContact.objects.get(pk=paul.pk).delete()
    send_due(rounds=3)
    assert PersonContact.objects.filter(pk=queenie.pk).exists()
    member = emulator.get_member(api_key, list_id, own)
    assert member is None or member["status"] == "archived" and not member["merge_fields"].get("FNAME"), (
        "Paul was erased, and a member with his data stays at %s: %s %s (row after the move: email %r, move_sent_to "
        "%r, claimed_by %r)" % (own, member and member["status"], member and member["merge_fields"], moved.email,
                                moved.move_sent_to, moved.claimed_by))
