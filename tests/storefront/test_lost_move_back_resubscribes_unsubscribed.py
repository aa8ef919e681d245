"""Found by independent review aud42 (issue 19) of 76d35b0 (F1; fixed: the restore of 76d35b0 withdrawn) (consent):
a followed lost move back restores "subscribed" from the row's stale belief (``row.member_status == subscribed``),
not from Mailchimp's status before the move, so an unsubscribe the shop never heard of (done in Mailchimp, no
webhook) is overturned: the member is subscribed again without consent (``ContactPlan._follow_lost_move``, the aud41
F3 branch forcing ``move_restores``)."""
import pytest

from shoop_mailchimp.models import SyncKind, SyncState
from tests.helpers import move_answer_lost, send_due
from tests.storefront.helpers import customer_information_post
from tests.storefront.test_customer_information_moves import tess_subscribed_under_double_opt_in

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "typo-move-answer-lost"])
def test_lost_move_back_does_not_resubscribe_an_unsubscribed_member(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings, lost):
    """Tess proved her address and is subscribed; the shop runs double opt-in. She unsubscribes in Mailchimp (the
    unsubscribe link of a campaign; the webhook never reaches the shop, so her row still says subscribed and her
    account's checkbox is still ticked). She then saves a typo as her address (the checkbox still on): the move
    PATCHes her member to the typo asking pending (Mailchimp allows unsubscribed -> pending), its answer is lost.
    She corrects the address back. The retry follows the lost move and, because the row says "subscribed" and the
    member is pending, forces a restore: the member is PUT ``subscribed`` at her address (pending -> subscribed,
    which Mailchimp's compliance rules allow, whereas unsubscribed -> subscribed is refused). Her unsubscribe is
    undone and she is mailed campaigns without having consented again.

    Control (the move's answer heard): the answered path records ``subscription_moved_from`` only when Mailchimp's
    member was subscribed before the move (``_move_member``: "Subscribed in Mailchimp (not only in the shop's view of
    it)"), so the move back asks her to confirm (pending): not subscribed."""
    emulator, api_key, list_id = mailchimp_account
    own, typo = "tess.a42l%d@fastmail.com" % lost, "tess.a42l%d@fastmail.con" % lost
    tess, browser = tess_subscribed_under_double_opt_in(shop, configuration, mailchimp_account, django_user_model,
                                                        "tess42l%d" % lost, own)
    # Her unsubscribe in Mailchimp, unheard by the shop.
    emulator.set_member_status(api_key, list_id, own, "unsubscribed")
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    customer_information_post(browser, email=typo, marketing_permission="on")
    move_answer_lost(mailchimp_account, typo, lost=lost)
    if lost:
        row = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=tess.pk)
        assert (row.email, row.move_sent_to, row.member_status) == (own, typo, "subscribed"), "setup: answer lost"
    else:
        send_due(rounds=1)
    assert emulator.get_member(api_key, list_id, typo)["status"] == "pending", "setup: moved to the typo, pending"
    customer_information_post(browser, email=own, marketing_permission="on")
    send_due(rounds=4)
    assert emulator.get_member(api_key, list_id, typo) is None, "setup: the member moved back"
    member = emulator.get_member(api_key, list_id, own)
    assert member["status"] != "subscribed", (
        "Tess unsubscribed in Mailchimp; after a lost typo move and its correction she is subscribed again at %s "
        "without consenting again" % own)
