"""Bursts: many contacts (or products) due at once go to Mailchimp through batches, without anyone pressing
a button.

A group renamed or filled, a CSV import, an audience re-mapping: each queues thousands of contacts; a
stock count or a price list import queues thousands of products.
One by one that is two requests per contact, minutes to hours behind; a batch carries 500 contacts in
two submissions. When a shop has at least ``BURST_THRESHOLD`` due contacts, every due contact is
claimed ``BATCH_SIZE`` at a time and planned as the drainer would plan it; the sends a batch can carry
(:attr:`ContactPlan.batchable`) are handed over to a :class:`MailchimpBatch`, the others (an address
change, consent given again, an erasure, nothing to send) are delivered by the drainer at once. The
batches then run as a bulk sync's do (:mod:`shoop_mailchimp.sync.bulk`): members first, then their
customers, each row closed by the same :func:`state.close` with the same version rule. Products go the
same way, each product one operation of a batch.
"""
import logging
import uuid
from collections import Counter

from django.db import transaction
from django.db.models import Count

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.journal import Journal
from shoop_mailchimp.models import BatchOrigin, MailchimpBatch, MailchimpConfiguration
from shoop_mailchimp.sync import bulk, state
from shoop_mailchimp.sync.drainer import ShopDelivery
from shoop_mailchimp.sync.kinds import BURST_KINDS, depends_on

logger = logging.getLogger(__name__)


def burst_threshold():
    """BURST_THRESHOLD as a whole number, or None when bursts are off (0, None, or a value the system check
    shoop_mailchimp.E008 refuses: a worker that never ran ``manage.py check`` sends one by one, and logs why)."""
    threshold = get_setting("BURST_THRESHOLD")
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        if threshold not in (None, 0):
            logger.error("SHOOP_MAILCHIMP['BURST_THRESHOLD'] is %r, not a whole number: bursts are off", threshold)
        return None
    return threshold


def bursts_due(shop_id=None, burst_kinds=BURST_KINDS):
    """``[(shop id, kind)]`` of the active shops with at least BURST_THRESHOLD due rows of a kind, by kind in
    ``burst_kinds``' order (none when bursts are off). One query counts every kind's due rows; which shops are
    active is read only when a count reaches the threshold (a round that finds no burst, most rounds, reads
    nothing else)."""
    threshold = burst_threshold()
    if threshold is None:
        return []
    counted = list(state.due(shop_id).filter(kind__in=burst_kinds).order_by().values("shop_id", "kind")
                   .annotate(due=Count("id")).filter(due__gte=threshold).values_list("shop_id", "kind"))
    if not counted:
        return []
    active = set(MailchimpConfiguration.objects.active().filter(shop_id__in={pair[0] for pair in counted})
                 .values_list("shop_id", flat=True))
    return sorted(((burst_shop_id, kind) for burst_shop_id, kind in counted if burst_shop_id in active),
                  key=lambda pair: (burst_kinds.index(pair[1]), pair[0]))


def send_bursts(shop_id=None, report=None):
    """Put every due contact (product) of each shop in a burst into batches; returns the batches made."""
    report = Counter() if report is None else report
    made = []
    for burst_shop_id, kind in bursts_due(shop_id):
        try:
            made.extend(send_burst(burst_shop_id, report, kind))
        except Exception:
            # One shop's failure (a bug of ours, the database) must not stop the round for the others: its
            # claimed rows come back when their lease ends, and the drainer sends them one by one meanwhile.
            logger.exception("The %s burst of shop %s failed", kind, burst_shop_id)
    return made


def send_burst(shop_id, report, kind):
    for first in depends_on(kind):
        # As the drainer orders kinds: a contact planned before its group's interest exists would be sent without it.
        rows = state.claim(shop_id=shop_id, limit=get_setting("DRAIN_CHUNK"), kind=first)
        if rows:
            ShopDelivery(shop_id, report).deliver(rows)
    size = max(1, int(get_setting("BATCH_SIZE")))
    # Bounded by what is due now: rows recorded meanwhile wait for the next round.
    chunks = -(-state.due(shop_id, kind=kind).count() // size)
    made = []
    for _chunk in range(chunks):
        configuration = bulk.sendable_configuration(shop_id)  # a send of this round may have paused the shop
        rows = state.claim(shop_id=shop_id, limit=size, kind=kind) if configuration else []
        if not rows:
            break
        # Made at the claim: its lease clock counts the planning and the batch's submission below (review pg49).
        delivery = ShopDelivery(shop_id, report)
        try:
            batched, one_by_one = bulk.split(configuration, rows, kind)
            batch = hand_over(shop_id, [row for row, _plan in batched], kind) if batched else None
        except Exception:
            state.release(rows)
            raise
        if batch is not None:
            made.append(batch)
            # Submitted at once with the plans just made: Mailchimp runs this chunk while the next is planned.
            bulk.check_batches(shop_id, report=report, plans={batch.pk: batched}, poll=False)
        if one_by_one:
            delivery.deliver(one_by_one)
    if made:
        journal = Journal(shop_id)
        journal.add("bulk.burst", "%d changed %ss go to Mailchimp in %d batches, not one by one (more than "
                    "%d were due at once)" % (sum(batch.rows for batch in made), kind, len(made),
                                              (burst_threshold() or 1) - 1))
        journal.flush()
        bulk.check_batches(shop_id, report=report)
    return made


def hand_over(shop_id, rows, kind):
    """A burst batch holding ``rows``. A row a shop's transaction held at that moment is not handed over: it
    goes back to the queue, for the next round. The batch remembers which rows were recovered (the token they
    carried is replaced by the batch's): planned again (by another worker, after a crash), given back or
    lost again, they stay recovered (:func:`bulk.recovered_marks`)."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        handed = state.hand_over(rows, token, get_setting("BATCH_LEASE_SECONDS"))
        batch = MailchimpBatch.objects.create(shop_id=shop_id, kind=kind, origin=BatchOrigin.BURST,
                                              token=token, rows=len(handed),
                                              sent=bulk.recovered_marks(row for row in rows if row.id in handed))
    state.release([row for row in rows if row.id not in handed])
    return batch
