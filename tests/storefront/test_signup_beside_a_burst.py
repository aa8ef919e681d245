"""Found by independent review aud17 (issue 19): in a burst, the batch's first sends are read and written by
Mailchimp while the same
round's one-by-one sends (a newsletter-block signup is never batched) run. ``_build_reads`` lets only one row of an
address own the member among the *batched* rows; a one-by-one row of the same address is not counted."""
import pytest

from shoop_mailchimp.storefront.subscriptions import subscribe_address
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.rounds import run_due_work
from tests.helpers import batch_posts, make_all_due, row_of, send_due
from tests.storefront.helpers import presses_on_account_page, registered_account

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("burst", [False, True], ids=["control-one-by-one", "burst"])
def test_a_batched_strangers_first_send_and_anns_block_signup_in_one_burst_do_not_both_own_her_member(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings, burst):
    """Ann subscribes on the newsletter block (her names); then a stranger registers an account with her address (the
    staff tick its consent; never activated). Both first sends are due in one round. In a burst the stranger's first
    send goes into a
    batch (its member read first), Ann's signup one by one: the batch is submitted, then Ann's signup reads no
    member and creates hers; the batch's read had found none too, so the stranger's row writes the full 'creating'
    write over Ann's member and records it as its own. The stranger's names replace Ann's, and the stranger's
    account-page Unsubscribe ends Ann's subscription. One by one (the control) Ann's member is hers alone."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", BURST_THRESHOLD=1 if burst else 0,
                                    BATCH_POLL_INTERVAL=0)
    email = "ann.burst.%d.aud17@fastmail.com" % burst
    subscribe_address(shop, email, "Ann", "Owner")  # Ann's own press on the newsletter block
    user, stranger = registered_account(
        shop, django_user_model, "stranger17b%d" % burst, email, first_name="Stranger", marketing_permission=True)
    make_all_due()
    emulator.faults.latency(0.3)  # Mailchimp's latency: a batch's operations run inside Mailchimp, without it
    run_due_work()
    emulator.faults.latency(0)
    if burst:
        assert batch_posts(emulator), "the stranger's first send went one by one (test set-up)"
        bulk.resume_batches(configuration.shop_id, poll_interval=0.02, timeout=30)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    names = (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME"))
    presses_on_account_page(user, subscribe=False)
    status = emulator.get_member(api_key, list_id, email)["status"]
    assert (names, status) == (("Ann", "Owner"), "subscribed"), (
        "the stranger's batched first send took Ann's member as its own too (foreign_member %r): names %r, "
        "status after its Unsubscribe %s" % (row_of(stranger).foreign_member, names, status))
