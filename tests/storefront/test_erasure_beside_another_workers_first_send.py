"""Found by independent review aud26 (issue 19), F1 (data loss). The aud24 F2 fix (``ErasePlan.addresses`` + the
drainer's ``parked`` list, commit 84135ef) keeps an erasure apart from another send at the same address only inside
ONE drain's thread pool. The root cause stays: ``MemberDataErased.remember`` -> ``state.rewrite_rows`` clears the
taker's fingerprint ("" already, at its first send) and re-queues it, but when the taker's row is still out with
another claim, that claim's close writes its fingerprint back (``state._close_changed`` guards ``fingerprint`` with
"unchanged since the claim", and "" == ""). Two workers draining one shop at once is a supported deployment
(``state.claim``: "PostgreSQL locks the chosen rows and skips those another worker holds"), so a second worker sends
the erasure while the first is still sending the taker's first send: the taker's names are cleared on Mailchimp and
never written again."""
from datetime import timedelta

import pytest
from django.utils import timezone
from shuup.core.models import get_person_contact

from shoop_mailchimp import shop_consent
from shoop_mailchimp.models import SyncState
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import another_worker_held, make_all_due, row_of, send_due
from tests.storefront.helpers import bea_leaves_her_member, registered_account


@pytest.mark.django_db(transaction=True)  # a thread of its own (worker 1) reads the test's data
@pytest.mark.parametrize("overlap", [False, True], ids=["control-one-after-the-other", "two-workers-overlap"])
def test_an_erasure_sent_by_a_second_worker_beside_a_takers_first_send_never_leaves_the_taker_nameless(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, overlap):
    """Bea registers; she changes her address to Cal's, her member stays at bea@ (members_left). Xena, the real
    owner of bea@, registers with it, proves it and consents. Worker 1 claims Xena's first send: it writes "Xena
    Owner" on the member at bea@, and its customer PUT is slow. Meanwhile Bea has her account deleted and worker 2
    claims and sends her erasure: it clears every mapped field on the member at bea@ and re-queues Xena's row.
    Expected: once the queue is empty, Xena's member carries her names (the control: worker 2 sends the erasure after
    worker 1 closed Xena's row, which the erasure then re-queues). Found: FNAME/LNAME stay empty for good."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    bea_addr, cal_addr = "bea.f1.aud26@fastmail.com", "cal.f1.aud26@fastmail.com"
    # Bea's last name is Xena's: an erasure cannot tell it from hers, and clears it.
    bea_user, bea = bea_leaves_her_member(shop, django_user_model, "bea26f1", bea_addr, cal_addr, last_name="Owner")
    xena_user, xena = registered_account(shop, django_user_model, "xena26f1", bea_addr, first_name="Xena",
                                         last_name="Owner", marketing_permission=True)
    shop_consent.record_proof(xena.pk, bea_addr)
    make_all_due()
    with another_worker_held(emulator, "*/customers/%d" % xena.pk, "Xena's customer PUT (worker 1)"):
        assert row_of(xena).claimed_by, "setup: worker 1 should hold Xena's row"
        member = emulator.get_member(api_key, list_id, bea_addr)
        assert member["merge_fields"].get("FNAME") == "Xena", "setup: Xena's member write should have landed"
        get_person_contact(bea_user).delete()
        # Her erasure due now (Xena's row keeps worker 1's lease: not make_all_due, which would end it).
        SyncState.objects.filter(erase=True).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        if overlap:
            drain()  # worker 2: Bea's erasure, while Xena's row is still out with worker 1
    if not overlap:
        drain()  # control: worker 2 sends Bea's erasure after worker 1 closed Xena's row
    send_due(rounds=4)
    row = row_of(xena)
    member = emulator.get_member(api_key, list_id, bea_addr)
    assert row.foreign_member is False and row.email.lower() == bea_addr.lower()
    assert member is not None and (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == (
        "Xena", "Owner"), ("Bea's erasure (worker 2) cleared the names Xena's first send (worker 1) wrote on her "
                           "member at %s, and they were never written again: %r (Xena's row status %s, "
                           "fingerprint %r)" % (bea_addr, member and member["merge_fields"], row.status,
                                                row.fingerprint[:8]))
