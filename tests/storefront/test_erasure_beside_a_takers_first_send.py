"""Found by independent review aud24 (issue 19), F2 (data loss). ``ErasePlan`` names no ``addresses`` (contact.py;
drainer ``addresses(plan)`` gives ``set()``), so with DRAIN_CONCURRENCY > 1 an erasure's ``_clear_member_left``
PATCH (every mapped merge field sent empty, every group interest off) runs beside another contact's send at the same
address. When that send's member write lands before the PATCH, its data is cleared. ``MemberDataErased.remember`` is
meant to repair that: it clears the other rows' fingerprints (``state.rewrite_rows``). But when the other row is
still out with its worker and its fingerprint was already "" when it was claimed (its first send), the row's close
writes its fingerprint back (``state._close_changed``: ``fingerprint`` is guarded by "unchanged since the claim",
and "" == ""), so the re-queued row plans as unchanged and the member is never written again: the new owner's names
stay erased."""
import hashlib

import pytest
from shuup.core.models import get_person_contact

from shoop_mailchimp import shop_consent
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, row_of, send_due
from tests.storefront.helpers import bea_leaves_her_member, registered_account

pytestmark = pytest.mark.django_db


def _hash(email):
    return hashlib.md5(email.lower().encode("utf-8")).hexdigest()


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("concurrency", [1, 2], ids=["control-one-thread", "two-threads"])
def test_an_erasure_beside_a_takers_first_send_never_leaves_the_taker_nameless(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, concurrency):
    """Bea registers (her member at bea@, "Bea Private"). The staff add Cal; Bea changes her address to Cal's: her
    member stays at bea@ (members_left). Xena, the real owner of bea@, registers with it, proves it (activation
    link) and consents; a moment later Bea has her account deleted. The shop's worker sends contacts in
    DRAIN_CONCURRENCY=2 threads (a documented setting): Xena's first send writes "Xena Owner" on the member at bea@
    while Bea's erasure (its read of bea@ a little slow) then clears every mapped field there; Xena's customer PUT
    is slow, so her row is still out when the erasure's close re-queues it. Expected: once the queue is empty,
    Xena's member carries her names (the control, one thread: the erasure runs apart and re-queues her row after
    it closed). Found: FNAME/LNAME stay empty for good."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", DRAIN_CONCURRENCY=concurrency)
    emulator, api_key, list_id = mailchimp_account
    tag = "%d" % concurrency
    bea_addr, cal_addr = "bea.f2.%s.aud24@fastmail.com" % tag, "cal.f2.%s.aud24@fastmail.com" % tag
    bea_user, bea = bea_leaves_her_member(shop, django_user_model, "bea24f2%s" % tag, bea_addr, cal_addr,
        last_name="Private")
    xena_user, xena = registered_account(shop, django_user_model, "xena24f2%s" % tag, bea_addr, first_name="Xena",
                                         last_name="Owner", marketing_permission=True)
    shop_consent.record_proof(xena.pk, bea_addr)
    get_person_contact(bea_user).delete()
    emulator.faults.hang(1.0, "*/members/%s" % _hash(bea_addr), method="GET", times=1)  # the erasure's read
    emulator.faults.hang(3.0, "*/customers/%d" % xena.pk, method="PUT", times=1)  # Xena's customer
    make_all_due()
    drain()
    send_due(rounds=4)
    row = row_of(xena)
    member = emulator.get_member(api_key, list_id, bea_addr)
    assert row.foreign_member is False and row.email.lower() == bea_addr.lower()
    assert member is not None and (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == (
        "Xena", "Owner"), ("Bea's erasure cleared the names Xena's first send wrote on her member at %s, and they "
                           "were never written again: %r (member %s; Xena's row status %s, fingerprint %r)" % (
                               bea_addr, member and member["merge_fields"], member and member["status"], row.status,
                               row.fingerprint[:8]))
