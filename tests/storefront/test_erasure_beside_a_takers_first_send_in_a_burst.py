"""Found by independent review aud26 (issue 19), F2 (data loss). The same root cause as F1, inside ONE worker: a burst
(``bursts.send_burst``: at least BURST_THRESHOLD due contacts) hands the batchable sends of a chunk to a Mailchimp
batch and delivers the others, an erasure among them, one by one at once, while the batch runs.
``ErasePlan.addresses`` (84135ef) only keeps an erasure apart from sends of the same ``_deliver_concurrently`` pool:
a taker's first send in the batch writes its member at the address the erased contact left, the erasure clears it
and re-queues the taker's row (``MemberDataErased`` -> ``state.rewrite_rows``: fingerprint "" -- it was "" already),
and the batch's close writes the taker's fingerprint back (``state._close_changed``: "unchanged since the claim", ""
== ""). The taker's names never reach Mailchimp again."""

import pytest

from shoop_mailchimp import shop_consent
from tests.helpers import make_all_due, row_of, send_due, synced_people
from tests.storefront.helpers import bea_erased_beside_a_batch, bea_leaves_her_member, registered_account

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("batch_open", [False, True], ids=["control-batch-closed-first", "batch-still-open"])
def test_an_erasure_beside_a_takers_first_send_in_a_burst_never_leaves_the_taker_nameless(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, batch_open):
    """Bea registers; she changes her address to Cal's, her member stays at bea@ (members_left). Xena, the real
    owner of bea@, registers with it and proves it. A group rename queues many contacts at once: the worker's round
    is a burst, and Xena's first send goes in a batch (her names written on the member at bea@). Before the batch
    closes Xena's row (its customers phase), Bea has her account deleted and the worker's next round sends her erasure
    one by one: it clears every mapped field at bea@ and re-queues Xena's row. Expected: once the queue is empty,
    Xena's member carries her names (the control: the batch closed Xena's row before the erasure). Found:
    FNAME/LNAME stay empty for good (Xena's row synced with its fingerprint)."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", BURST_THRESHOLD=6, BATCH_SIZE=4,
                                    BATCH_POLL_INTERVAL=0)
    emulator, api_key, list_id = mailchimp_account
    bea_addr, cal_addr = "bea.f2.aud26@fastmail.com", "cal.f2.aud26@fastmail.com"
    # Bea's last name is Xena's: an erasure cannot tell it from hers, and clears it.
    bea_user, bea = bea_leaves_her_member(shop, django_user_model, "bea26f2", bea_addr, cal_addr, last_name="Owner")
    others = synced_people(6)
    xena_user, xena = registered_account(shop, django_user_model, "xena26f2", bea_addr, first_name="Xena",
                                         last_name="Owner")
    shop_consent.record_proof(xena.pk, bea_addr)
    for person in others:  # a group renamed: many contacts due at once
        person.first_name = "Changed"
        person.save()
    make_all_due()
    bea_erased_beside_a_batch(configuration, mailchimp_account, bea_user, bea_addr, xena, "Xena", batch_open)
    send_due(rounds=4)
    row = row_of(xena)
    member = emulator.get_member(api_key, list_id, bea_addr)
    assert row.foreign_member is False and row.email.lower() == bea_addr.lower()
    assert member is not None and (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == (
        "Xena", "Owner"), ("Bea's erasure, sent one by one beside the burst's batch that carried Xena's first send, "
                           "cleared her names on the member at %s, and they were never written again: %r (Xena's "
                           "row status %s, fingerprint %r)" % (bea_addr, member and member["merge_fields"],
                                                               row.status, row.fingerprint[:8]))
