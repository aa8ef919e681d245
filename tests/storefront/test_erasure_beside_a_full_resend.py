"""Found by independent review aud27 (issue 19), (of commit 891b586), F1 (data loss). The fix made a cleared
fingerprint ``"-"`` so that the close of a claim out meanwhile, whose fingerprint is written only where the field
still holds its claim-time value (``state._fact_fields`` / ``_IfUnchanged``, compared by value in
``state._update_held``), no longer takes a clear for its own value. That holds for a claim taken at "" (a first
send) or at a real fingerprint, but not for a claim taken at ``"-"`` itself: every send that carries out an earlier
"write in full" request (a store created again, a repair, a reconciliation, an erasure's re-queue of the member's
keeper) holds ``"-"`` at claim time. A second clear while that send is out (an erasure's ``rewrite_rows`` of the
same row) writes ``"-"`` over ``"-"``; the close finds its claim-time value and writes its payload's fingerprint
back over the request, which is lost as before the fix."""
from datetime import timedelta

import pytest
from django.utils import timezone
from shuup.core.models import get_person_contact

from shoop_mailchimp import shop_consent
from shoop_mailchimp.models import SyncState, SyncStatus
from shoop_mailchimp.sync import kinds
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import another_worker_held, make_all_due, row_of, send_due
from tests.storefront.helpers import bea_leaves_her_member, registered_account


@pytest.mark.django_db(transaction=True)  # a thread of its own (worker 1) reads the test's data
@pytest.mark.parametrize("overlap", [False, True], ids=["control-one-after-the-other", "two-workers-overlap"])
def test_an_erasure_beside_a_full_resend_out_with_another_worker_never_leaves_the_keeper_nameless(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, overlap):
    """Bea registers and moves to Cal's address; her member stays at bea@ (members_left). Xena, the real owner of
    bea@, registers with it, proves it, consents, and is sent: her member at bea@ carries "Xena Owner". The store is
    created again (``kinds.requeue_for_new_store``, as the initialization does after a store went missing): every
    contact's fingerprint is cleared ("-") to be written in full. Worker 1 claims Xena's full re-send (claim-time
    fingerprint "-"): it writes her member, and its customer PUT is slow. Meanwhile Bea has her account deleted and
    worker 2 sends her erasure: it clears every mapped field on the member at bea@ and re-queues Xena's row
    (``rewrite_rows``: "-" again). Expected: once the queue is empty, Xena's member carries her names (the control:
    worker 2 sends the erasure after worker 1 closed Xena's row). Found: worker 1's close writes Xena's fingerprint
    over the second "-" (it equals the claim-time "-"), her next send closes unchanged, and her member at bea@ stays
    nameless for good."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    bea_addr, cal_addr = "bea.f1.aud27@fastmail.com", "cal.f1.aud27@fastmail.com"
    # Bea's last name is Xena's: an erasure cannot tell it from hers, and clears it.
    bea_user, bea = bea_leaves_her_member(shop, django_user_model, "bea27f1", bea_addr, cal_addr, last_name="Owner")
    xena_user, xena = registered_account(shop, django_user_model, "xena27f1", bea_addr, first_name="Xena",
                                         last_name="Owner", marketing_permission=True)
    shop_consent.record_proof(xena.pk, bea_addr)
    send_due(rounds=3)
    row = row_of(xena)
    assert row.status == SyncStatus.SYNCED and len(row.fingerprint) == 64, "setup: Xena sent"
    member = emulator.get_member(api_key, list_id, bea_addr)
    assert member["merge_fields"].get("FNAME") == "Xena", "setup: Xena's first send named her member"

    kinds.requeue_for_new_store(shop.pk)  # the store created again: contacts written in full
    assert row_of(xena).fingerprint.startswith("-"), "setup: Xena's row queued to be written in full"
    make_all_due()
    with another_worker_held(emulator, "*/customers/%d" % xena.pk, "Xena's customer PUT (worker 1)"):
        assert row_of(xena).claimed_by, "setup: worker 1 should hold Xena's row"
        get_person_contact(bea_user).delete()
        SyncState.objects.filter(erase=True).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        if overlap:
            drain()  # worker 2: Bea's erasure, while Xena's row is still out with worker 1
            member = emulator.get_member(api_key, list_id, bea_addr)
            assert not member["merge_fields"].get("LNAME"), "setup: Bea's erasure should have cleared her last name"
            assert row_of(xena).fingerprint.startswith("-"), "setup: the erasure queued Xena's row in full"
    if not overlap:
        drain()  # control: worker 2 sends Bea's erasure after worker 1 closed Xena's row
    send_due(rounds=4)
    row = row_of(xena)
    member = emulator.get_member(api_key, list_id, bea_addr)
    assert member is not None and (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == (
        "Xena", "Owner"), ("Bea's erasure (worker 2) cleared the names Xena's full re-send (worker 1, claimed at '-') "
                           "wrote on her member at %s, and they were never written again: %r (Xena's row status %s, "
                           "fingerprint %r)" % (bea_addr, member and member["merge_fields"], row.status,
                                                row.fingerprint[:8]))
