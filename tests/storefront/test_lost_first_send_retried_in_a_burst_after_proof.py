"""Found by independent review aud44 (issue 19) of 89842ba, F4 (consent; fixed: such a retry is not batchable): the
retry of a lost first send, at an address its owner proved meanwhile, counts the subscription its lost attempt created
as its consent's (``ContactPlan.created_earlier``, aud37/aud38, the status comparison of 89842ba) only when the drainer
sends it one by one. In a burst's batch (many rows due at once: a group change, "Sync existing", a resend) the plan is
batchable (the member is another's: a held write, no status change), and ``contact._build_reads`` / ``_read_members``
never read the member nor compute ``created_earlier``: the close records ``consent_made`` False (``consent_made(...,
created=False)`` for an arriving contact). The contact's later withdrawal is then "its own consent only", and the
subscription its lost attempt made stays on the owner's address."""
import json

import pytest
from django.test import Client
from shuup.core.models import PersonContact

from shoop_mailchimp import shop_consent
from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync import bulk, bursts
from tests.helpers import batch_posts, first_send_answer_lost, make_all_due, row_of, send_due, synced_people
from tests.storefront.helpers import choose, registered_account

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("burst", [False, True], ids=["control-one-by-one", "retried-in-a-burst"])
def test_strangers_unsubscribe_ends_the_subscription_its_lost_first_send_made_when_retried_in_a_burst(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, burst):
    """A stranger registers an account with Ann's address, consent given (single opt-in); its first send creates the
    member subscribed and the answer is lost. Ann registers and proves the address hers (she never consents). The
    stranger's retry goes out: one by one (control), or in a burst's batch because other contacts are due at the same
    moment (a group renamed). The stranger then presses Unsubscribe. Expected: Ann's address is unsubscribed (nobody
    consents; the control does so). Found in the burst: it stays subscribed."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=5, BURST_THRESHOLD=4,
                                    BATCH_SIZE=10, BATCH_POLL_INTERVAL=0)
    configuration.double_opt_in = False
    configuration.save()
    others = synced_people(3)
    email = "ann.aud44burst.%d@fastmail.com" % burst
    stranger_user, stranger = registered_account(shop, django_user_model, "str44b%d" % burst, email,
                                                 first_name="Stranger", marketing_permission=True)
    first_send_answer_lost(emulator, api_key, list_id, email)
    assert row_of(stranger).status == SyncStatus.PENDING and row_of(stranger).claimed_by, "setup: a lost first send"
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", "setup"
    _ann_user, ann = registered_account(shop, django_user_model, "ann44b%d" % burst, email, first_name="Ann")
    shop_consent.record_proof(ann.pk, email)
    if burst:
        for person in others:
            person = PersonContact.objects.get(pk=person.pk)
            person.last_name = "Renamed"
            person.save()
        make_all_due()
        assert bursts.send_bursts(shop.pk), "setup: a burst"
        for _look in range(50):
            if row_of(stranger).status != SyncStatus.SENDING:
                break
            bulk.check_batches(shop.pk)
    # Whether the stranger's retry went in the burst's batch (shown in the failure message).
    batched = any('"c:%d:member"' % row_of(stranger).id in json.dumps(post.get("body"))
                  for post in batch_posts(emulator))
    send_due(rounds=3)
    row = row_of(stranger)
    before = (row.status, row.email, row.member_status, row.foreign_member, row.opt_in, row.consent_made)
    assert row.email == email and row.status == SyncStatus.SYNCED, "setup: the retry went through: %r" % (before,)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(stranger_user)
    choose(browser, subscribe=False)
    send_due(rounds=3)
    status = emulator.get_member(api_key, list_id, email)["status"]
    assert status == "unsubscribed", (
        "Ann never consented; the stranger withdrew; the subscription its lost first send made is %s (stranger's row "
        "after the retry: status, email, member_status, foreign_member, opt_in, consent_made = %r; retried in a "
        "batch: %s)"
        % (status, before, batched))
