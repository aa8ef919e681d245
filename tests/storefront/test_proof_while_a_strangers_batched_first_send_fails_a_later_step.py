"""Seen by independent review aud33 (issue 19), probed here: aud28 F2's race in a burst. A batch whose member write
created and subscribed a member by a contact's consent, and whose later step (the customer) failed, closed its row
with what the member write taught (``_written_in_batch``) but not that the contact's consent made the subscription
(``consent_made``), as the one-by-one path records. An address owner's proof that arrived while the batch was out
marks the row ``foreign_member``; its retry finds the member subscribed already and records nothing: the
subscription only the stranger's consent made is taken for the owner's, and the stranger's Unsubscribe leaves it."""
import pytest
from django.contrib.auth import get_user_model

from shoop_mailchimp import shop_consent
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.rounds import run_due_work
from tests.helpers import batch_posts, make_all_due, members_written_by_batches, row_of, send_due
from tests.storefront.helpers import presses_on_account_page, registered_account

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("customer_fails", [False, True], ids=["control-customer-written", "customer-fails"])
def test_a_strangers_unsubscribe_ends_the_subscription_its_batched_consent_made_though_a_later_step_failed(
        shop, configuration, mailchimp_account, settings, customer_fails):
    """Single opt-in, a burst. A stranger registers an account with Ann's address, with consent: its first send goes
    in a batch, which creates the member subscribed (the stranger's consent alone). While the batch is out Ann
    registers her own account with her address and proves it (activation link); she never consents. The batch's
    customer step fails (a 500) and the row is sent again one by one. Later the stranger presses Unsubscribe.
    Expected (as in the control, whose customer step succeeds): the subscription only the stranger's consent made
    ends with its Unsubscribe. Found: Ann's address stays subscribed, though nobody in the shop consents."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", BURST_THRESHOLD=1,
                                    BATCH_POLL_INTERVAL=0)
    emulator, api_key, list_id = mailchimp_account
    users = get_user_model()
    email = "ann.batched.%d@fastmail.com" % customer_fails
    stranger_user, stranger = registered_account(shop, users, "strbatch%d" % customer_fails, email,
                                                 first_name="Stranger", marketing_permission=True)
    make_all_due()
    if customer_fails:
        emulator.faults.fail("*/customers/%d" % stranger.pk, status=500, method="PUT", times=1)
    run_due_work()
    assert batch_posts(emulator), "setup: the stranger's first send should go in a batch"
    members_written_by_batches(configuration.shop_id, emulator, api_key, list_id, [stranger])
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", "setup: the batch subscribed it"
    assert row_of(stranger).batch_id, "setup: the stranger's row should still be out with its batch"
    _ann_user, ann = registered_account(shop, users, "annbatch%d" % customer_fails, email, first_name="Ann")
    shop_consent.record_proof(ann.pk, email)
    assert row_of(stranger).foreign_member is True, "setup: the proof reached the stranger's row"
    assert bulk.resume_batches(configuration.shop_id, poll_interval=0.02, timeout=30) == 0
    make_all_due()
    send_due(rounds=3)
    row = row_of(stranger)
    before = (row.foreign_member, row.opt_in, row.consent_made, row.attempts)
    presses_on_account_page(stranger_user, subscribe=False)
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed", (
        "the subscription only the stranger's consent made outlived its Unsubscribe; nobody consents to %s now "
        "(stranger's row before: foreign_member, opt_in, consent_made, attempts = %r)" % (email, before))


@pytest.mark.usefixtures("commits")
def test_a_batched_first_send_onto_an_owners_subscribed_member_records_no_consent_made_when_a_later_step_fails(
        shop, configuration, mailchimp_account, settings):
    """The other side (review aud34, held): Ann subscribed on Mailchimp's own form; a stranger's account with her
    address and consent is first sent in a batch whose customer step fails. The subscription is Ann's, not made by
    the stranger's consent: the failed step's close must not record ``consent_made`` (the stranger's Unsubscribe
    would end Ann's subscription)."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", BURST_THRESHOLD=1,
                                    BATCH_POLL_INTERVAL=0)
    emulator, api_key, list_id = mailchimp_account
    email = "ann.owner.batched@fastmail.com"
    emulator.fire_event(api_key, list_id, "subscribe", email)  # Ann on Mailchimp's own form
    _user, stranger = registered_account(shop, get_user_model(), "strownerbatch", email, first_name="Stranger",
                                         marketing_permission=True)
    make_all_due()
    emulator.faults.fail("*/customers/%d" % stranger.pk, status=500, method="PUT", times=1)
    run_due_work()
    assert batch_posts(emulator), "setup: the stranger's first send should go in a batch"
    assert bulk.resume_batches(configuration.shop_id, poll_interval=0.02, timeout=30) == 0
    row = row_of(stranger)
    assert row.attempts == 1, "setup: the customer step failed (a retry)"
    assert not row.consent_made, (row.consent_made, row.foreign_member, row.member_status, row.status)
