"""Found by independent review aud27 (issue 19), (of commit 891b586), F1, second probe (a batch's close): the same
defect as ``test_second_clear_while_a_full_resend_is_out``, inside one worker. A store created again queues every
contact to be written in full (``requeue_keeping_member``: fingerprint "-"); the worker's round is a burst and the
keeper's full re-send goes in a Mailchimp batch, claimed at "-". An erasure sent one by one while the batch runs
clears the member's mapped fields and re-queues the keeper's row (``rewrite_rows``: "-" again); the batch's close
writes its fingerprint back (``state._close_changed`` / ``_IfUnchanged``: "-" == "-"), and the keeper's names never
reach Mailchimp again. (A reconciliation's ``requeue_missing`` beside a batch claimed at "-" is saved by its
``unique_email_id`` clear: not a finding.)"""
from datetime import timedelta

import pytest
from django.utils import timezone
from shuup.core.models import PersonContact

from shoop_mailchimp import shop_consent
from shoop_mailchimp.models import SyncState, SyncStatus
from shoop_mailchimp.sync import kinds
from tests.helpers import make_all_due, row_of, send_due, synced_people
from tests.storefront.helpers import bea_erased_beside_a_batch, bea_leaves_her_member, registered_account

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("batch_open", [False, True], ids=["control-batch-closed-first", "batch-still-open"])
def test_an_erasure_beside_a_full_resend_in_a_burst_never_leaves_the_keeper_nameless(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, batch_open):
    """Bea registers and moves to Cal's address; her member stays at bea@ (members_left). Xena, the real owner of
    bea@, registers with it, proves it and is sent: her member at bea@ carries her names. The store is created again
    (``kinds.requeue_for_new_store``): every contact is queued to be written in full, and Xena renames herself
    ("Xenia"). Bea's own re-send waits out a backoff. The worker's round is a burst; Xena's full re-send goes in a
    batch. Before the batch closes Xena's row,
    Bea has her account deleted and the worker's next round sends her erasure one by one: it clears every mapped
    field at bea@ and re-queues Xena's row. Expected: once the queue is empty, Xena's member carries her names (the
    control: the batch closed Xena's row before the erasure). Found: FNAME/LNAME stay empty for good."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", BURST_THRESHOLD=6, BATCH_SIZE=4,
                                    BATCH_POLL_INTERVAL=0)
    emulator, api_key, list_id = mailchimp_account
    bea_addr, cal_addr = "bea.f1b.aud27@fastmail.com", "cal.f1b.aud27@fastmail.com"
    # Bea's last name is Xena's: an erasure cannot tell it from hers, and clears it.
    bea_user, bea = bea_leaves_her_member(shop, django_user_model, "bea27f1b", bea_addr, cal_addr, last_name="Owner")
    synced_people(6)
    xena_user, xena = registered_account(shop, django_user_model, "xena27f1b", bea_addr, first_name="Xena",
                                         last_name="Owner")
    shop_consent.record_proof(xena.pk, bea_addr)
    send_due(rounds=3)
    assert row_of(xena).status == SyncStatus.SYNCED and len(row_of(xena).fingerprint) == 64, "setup: Xena sent"
    kinds.requeue_for_new_store(shop.pk)  # the store created again: every contact written in full
    xena = PersonContact.objects.get(pk=xena.pk)
    xena.first_name = "Xenia"
    xena.save()
    assert row_of(xena).fingerprint.startswith("-"), "setup: Xena's row queued to be written in full"
    make_all_due()
    # Bea's own re-send waits (a retry's backoff, say): the burst leaves her row free for her erasure.
    SyncState.objects.filter(pk=row_of(bea).pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
    bea_erased_beside_a_batch(configuration, mailchimp_account, bea_user, bea_addr, xena, "Xenia", batch_open)
    send_due(rounds=4)
    row = row_of(xena)
    member = emulator.get_member(api_key, list_id, bea_addr)
    assert member is not None and (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == (
        "Xenia", "Owner"), ("Bea's erasure, sent beside the burst's batch that carried Xena's full re-send (claimed at "
                            "'-'), cleared her names on the member at %s, and they were never written again: %r "
                            "(Xena's row status %s, fingerprint %r)" % (bea_addr, member and member["merge_fields"],
                                                                        row.status, row.fingerprint[:8]))
