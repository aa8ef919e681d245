"""Found by independent review aud42 (issue 19) of 76d35b0 (F4; fixed: the restore of 76d35b0 withdrawn) (other /
rule inconsistency): the aud41 F3 branch of ``_follow_lost_move`` restores "subscribed" back at the row's address
without asking whether its owner proved it (``moved_to_proven``), which every answered move back requires
(``_decide_move_rules``: ``move_restores`` needs ``self.moved_to_proven``)."""
import pytest
from django.test import Client

from shoop_mailchimp.models import MailchimpConfiguration, SyncKind, SyncState
from tests.helpers import move_answer_lost, send_due
from tests.storefront.helpers import choose, customer_information_post, logged_in_account
from tests.webhooks.helpers import post_event

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "typo-move-answer-lost"])
def test_lost_move_back_to_an_unproven_address_asks_confirmation_as_an_answered_one(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings, lost):
    """Bob registered with an address he never proved to the shop (Shuup verifies nothing), subscribed (confirming the
    link Mailchimp mailed there), and the shop then runs double opt-in. He saves a typo (the member moves there pending,
    a link mailed to the typo), then saves his first address back. Answered (control), the move back to an address
    nobody proved asks its owner to confirm (pending, a link mailed there). With the typo move's answer lost, the follow
    forces ``move_restores``: the member is PUT subscribed at the unproven address with no confirmation, the double
    opt-in rule skipped."""
    emulator, api_key, list_id = mailchimp_account
    own, typo = "bob.a42u%d@fastmail.com" % lost, "bob.a42u%d@fastmail.con" % lost
    bob, browser = logged_in_account(shop, django_user_model, "bob42u%d" % lost, own, proven=False)
    choose(browser, subscribe=True)
    send_due(rounds=3)
    if emulator.get_member(api_key, list_id, own)["status"] == "pending":
        # Bob clicks the link (the emulator's confirmation, its webhook heard).
        emulator.set_member_status(api_key, list_id, own, "subscribed")
        assert post_event(Client(), configuration, "subscribe", email=own).status_code == 200
        send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, own)["status"] == "subscribed", "setup"
    assert SyncState.objects.get(kind=SyncKind.CONTACT, object_id=bob.pk).member_status == "subscribed", "setup"
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(double_opt_in=True)
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    customer_information_post(browser, email=typo, marketing_permission="on")
    move_answer_lost(mailchimp_account, typo, lost=lost)
    if lost:
        row = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=bob.pk)
        assert (row.email, row.move_sent_to) == (own, typo), "setup: answer lost"
    else:
        send_due(rounds=1)
    assert emulator.get_member(api_key, list_id, typo)["status"] == "pending", "setup: moved to the typo, pending"
    customer_information_post(browser, email=own, marketing_permission="on")
    send_due(rounds=4)
    assert emulator.get_member(api_key, list_id, typo) is None, "setup: the member moved back"
    assert emulator.get_member(api_key, list_id, own)["status"] == "pending", (
        "back at the unproven %s the member is %s without confirmation" % (
            own, emulator.get_member(api_key, list_id, own)["status"]))
