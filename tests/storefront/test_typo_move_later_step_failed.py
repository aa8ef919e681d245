"""Found by independent review aud41 (issue 19) of 030f1c5, F4 (consent; fixed: a confirming move records its
decisions; a move back restores at its retry); (item 4: an answered move is recorded on the row when a later step
fails, as ``{"email", "shop_email"}`` only). Under double opt-in, a move whose answer was heard decides more than
the address: the member moved to an unproven address is pending (``subscription_moved_from``: the subscription it
left, to be restored when the address comes back), and a move back to the proven address restores the subscription.
When the member PUT after the answered PATCH fails (503), the row records the address but none of what the move
decided, and the retry (now seeing no move) never decides it again."""
import pytest
from shuup.core.models import Contact

from shoop_mailchimp.models import SyncKind, SyncState
from shoop_mailchimp.storefront import subscriptions
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, send_due
from tests.storefront.helpers import customer_information_post
from tests.storefront.test_customer_information_moves import tess_subscribed_under_double_opt_in

pytestmark = pytest.mark.django_db


def _save_with_failed_member_put(emulator, browser, email):
    """Tess saves ``email`` on Customer Information; the send's member PATCH (the move) is answered, the member PUT
    after it fails once (503; the send is retried at once, and again by the rounds after)."""
    emulator.faults.fail("*/members/*", status=503, method="PUT", times=1)
    customer_information_post(browser, email=email, marketing_permission="on")
    make_all_due()
    drain()
    emulator.faults.clear()
    send_due(rounds=3)


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("failing", ["control", "typo-move", "move-back"])
def test_typo_corrected_back_keeps_subscription_though_a_put_after_the_move_failed(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, failing):
    """Tess proved her address and is subscribed; the shop runs double opt-in. She types a wrong address into her
    account (the member moves there pending, a link mailed to the typo's mailbox), then corrects it back to her own
    proven address: her subscription must be as it was (subscribed; as the control shows, and
    test_under_double_opt_in_a_typo_corrected_back_to_the_proven_address_keeps_the_subscription).

    ``typo-move``: the member PUT after the move to the typo fails once (503). The row records the typo address
    (item 4) but not ``subscription_moved_from``; the move back then takes the member for one pending by itself and
    moves it pending again: Tess, who never unsubscribed, is left pending at her own address and needs a new
    confirmation (her subscription is ended by a 503).

    ``move-back``: the member PUT after the move back (the one carrying ``subscribed``, the restore) fails once. The
    row records her address, its retry sees no move, nothing restores: she stays pending at her own proven address,
    and no link was ever mailed there (only the typo got one): her subscription is lost for good while the account
    page says "awaiting confirmation"."""
    emulator, api_key, list_id = mailchimp_account
    own, typo = "tess.f41%s@fastmail.com" % failing[:4], "tess.f41%s@fastmail.con" % failing[:4]
    tess, browser = tess_subscribed_under_double_opt_in(shop, configuration, mailchimp_account, django_user_model,
                                                        "tess41" + failing[:4], own)
    if failing == "typo-move":
        _save_with_failed_member_put(emulator, browser, typo)
    else:
        customer_information_post(browser, email=typo, marketing_permission="on")
        send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, typo)["status"] == "pending", "setup: moved to the typo, pending"
    if failing == "move-back":
        _save_with_failed_member_put(emulator, browser, own)
    else:
        customer_information_post(browser, email=own, marketing_permission="on")
        send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, own)
    assert emulator.get_member(api_key, list_id, typo) is None, "setup: the member moved back"
    row = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=tess.pk)
    mailed = [item["email_address"] for item in emulator.confirmations(api_key)]
    assert member["status"] == "subscribed", (
        "Tess's subscription at her own proven address is %s after the typo was corrected (row: %s/%s, "
        "subscription_moved_from=%r; links mailed to %s; page: %s)" % (
            member["status"], row.email, row.member_status, row.subscription_moved_from, mailed,
            subscriptions.newsletter_status(shop, Contact.objects.get(pk=tess.pk))))
