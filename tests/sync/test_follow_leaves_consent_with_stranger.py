"""Found by independent review aud39 (issue 19) of commit 96f8510, F5 (consent; fixed: the subscription leaves with the
contact unless one of the address's contacts consents): ``_member_moved_meanwhile`` stops following the contact's member
when another contact of the shop has the address it was moved to ("the member stays there, theirs as well"), though the
subscription there is this contact's consent's, and the write then lands at the contact's address as a new member."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncStatus
from tests.helpers import move_answer_lost, row_of, send_due

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "move-answer-lost"])
def test_a_lost_move_onto_an_address_another_contact_then_takes_keeps_no_unconsented_subscription(
        shop, configuration, mailchimp_account, settings, lost):
    """Ed (consenting) is subscribed at his address. The shop changes it to a mistyped one (Yann's mailbox): the
    send PATCHes Ed's member there; the PATCH lands, its answer is lost (a timeout). Before the retry the shop puts
    Ed's address back, and Yann (who never consented) registers with his own address, the one Ed's member now sits
    at. The retry (recovered, may_have_moved) finds no member at Ed's address, finds his member at Yann's, and since
    another contact (Yann) has that address leaves it there "theirs as well" -- still subscribed by Ed's consent --
    and writes Ed a fresh member at his address without his subscription (transactional). Yann is mailed the
    newsletter he never asked for (his own sends leave a member not his alone) and Ed, who consented, is no longer
    subscribed. Control: the move answered, Yann registers, the shop puts Ed's address back: Ed's consent leaves
    with him (the member at Yann's address is unsubscribed) and Ed is subscribed at his address."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=5)
    ed_address, yanns = ("%s.%d@fastmail.com" % (which, lost) for which in ("ed.aud39", "yann.aud39"))
    ed = PersonContact.objects.create(first_name="Ed", email=ed_address, marketing_permission=True)
    ed.add_to_shop(shop)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, ed_address)["status"] == "subscribed"
    ed.email = yanns
    ed.save()
    move_answer_lost(mailchimp_account, yanns, lost)
    if lost:
        assert row_of(ed).status == SyncStatus.PENDING and row_of(ed).email == ed_address
    yann = PersonContact.objects.create(first_name="Yann", email=yanns, marketing_permission=False)
    yann.add_to_shop(shop)
    ed = PersonContact.objects.get(pk=ed.pk)
    ed.email = ed_address
    ed.save()
    send_due(rounds=4)
    assert row_of(ed).status == SyncStatus.SYNCED
    at_yanns = emulator.get_member(api_key, list_id, yanns)
    at_eds = emulator.get_member(api_key, list_id, ed_address)
    assert at_yanns is None or at_yanns["status"] not in ("subscribed", "pending"), (
        "Yann (no consent) is %s at his address by Ed's consent; Ed at his: %s" % (
            at_yanns["status"], at_eds and at_eds["status"]))
    assert at_eds is not None and at_eds["status"] == "subscribed", "Ed consents and is %s" % (
        at_eds and at_eds["status"])
