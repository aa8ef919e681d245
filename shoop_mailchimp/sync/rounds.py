"""One round of everything due, whoever runs it (the background thread, ``mailchimp_sync --loop``, a
Celery beat task): admin jobs, queued rows, open batches, the webhook health check."""
import logging
import time
from collections import Counter
from datetime import timedelta

from django.db.models import Max
from django.utils import timezone

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.models import BatchStatus, MailchimpBatch, MailchimpConfiguration
from shoop_mailchimp.sync.bulk import check_batches, finish_store_syncing
from shoop_mailchimp.sync.bursts import send_bursts
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.jobs import run_due_jobs, schedule_domain_retries, schedule_reconciliations
from shoop_mailchimp.sync.kinds import cart, prices, product
from shoop_mailchimp.webhook_registration import check_webhook

logger = logging.getLogger(__name__)

#: {shop id: (time.monotonic() of the end of this process's last look at its open batches, the
#: :func:`batch_look_gap` it left)}.
_last_batch_look = {}
#: time.monotonic() of this process's last round that looked at what time makes due (None: none yet).
_last_timed_work = [None]
#: Seconds after its submission a batch is first looked at: a burst's batch of a few thousand operations is
#: often done by then.
FIRST_BATCH_LOOK = 0.5


def run_due_work(shop_id=None, max_rounds=None, woken=False):
    """Returns the delivery report (a Counter of row outcomes, plus "jobs" run).

    ``woken``: the round a commit asked for (the background drainer woken, Celery's ``drain_shop``) sends what
    was recorded (admin jobs, bursts, rows, open batches); what time alone makes due (reconciliations, domain
    retries, carts past their lifetime, products past their availability or discount dates, the webhook check)
    it looks at only when this process has not for ``POLL_INTERVAL``: a busy shop's every commit would otherwise
    scan for them, and a drainer woken more often than its timer still looks."""
    report = Counter()
    timed = not woken or _timed_work_due()
    if timed:
        schedule_reconciliations(shop_id)
        schedule_domain_retries(shop_id)
    jobs = run_due_jobs(shop_id)
    if jobs:
        report["jobs"] = jobs
    send_bursts(shop_id, report)
    if timed:
        expire_carts()
        product.requeue_past_availability()
        product.requeue_past_discount_dates(prices.discount_date_changes)
    report.update(drain(shop_id=shop_id, max_rounds=max_rounds))
    poll_batches(shop_id, report)
    if timed:
        check_webhooks(shop_id)
    return report


def _timed_work_due():
    """Whether this process's last look at what time makes due is ``POLL_INTERVAL`` old (and books this one)."""
    now, last = time.monotonic(), _last_timed_work[0]
    if last is not None and now - last < get_setting("POLL_INTERVAL"):
        return False
    _last_timed_work[0] = now
    return True


def expire_carts():
    """Carts left alone for CART_LIFETIME are queued once more: their plan deletes them in Mailchimp. Carts whose
    restore link is older than half of it while their basket changed since (a cart outliving its link) are
    queued too: their plan sends a fresh link."""
    lifetime = get_setting("CART_LIFETIME")
    cart.requeue_stale(timezone.now() - timedelta(seconds=lifetime))
    cart.requeue_to_renew(timezone.now() - timedelta(seconds=lifetime / 2))


def seconds_to_next_round(interval=None, shop_id=None):
    """How long a drainer nobody wakes may wait: ``interval`` (POLL_INTERVAL by default), or less while
    batches (of ``shop_id``, when given) are open (:func:`batch_look_gap`): a burst's or a bulk sync's batch
    Mailchimp finished would otherwise wait a whole interval for its look, and its next phase another."""
    wait = get_setting("POLL_INTERVAL") if interval is None else interval
    gap = batch_look_gap(shop_id)
    return wait if gap is None else min(wait, gap)


def batch_look_gap(shop_id=None):
    """Seconds to the next look at the open batches (of ``shop_id``), None when none is open: as long as the
    youngest has been submitted (FIRST_BATCH_LOOK at first), at most BATCH_POLL_INTERVAL. The looks after a
    submission double their spacing (0.5 s, 1 s, 2 s...): a burst's batch that Mailchimp finishes in a second is
    read then, not BATCH_POLL_INTERVAL later, and a batch that runs for minutes costs a few looks more."""
    open_batches = MailchimpBatch.objects.filter(status__in=BatchStatus.OPEN)
    if shop_id is not None:
        open_batches = open_batches.filter(shop_id=shop_id)
    if not open_batches.exists():
        return None
    interval = get_setting("BATCH_POLL_INTERVAL")
    youngest = open_batches.aggregate(youngest=Max("submitted_on"))["youngest"]
    if youngest is None:
        return interval
    return min(interval, max(FIRST_BATCH_LOOK, (timezone.now() - youngest).total_seconds()))


def poll_batches(shop_id=None, report=None):
    """Look at open bulk-sync batches when the :func:`batch_look_gap` the shop's last look left has passed (a
    round woken by commits in between does not look; a lower BATCH_POLL_INTERVAL counts at once); a store whose
    import is done stops being ``is_syncing``."""
    open_batches = MailchimpBatch.objects.filter(status__in=BatchStatus.OPEN)
    syncing = MailchimpConfiguration.objects.filter(store_syncing=True)
    if shop_id is not None:
        open_batches, syncing = open_batches.filter(shop_id=shop_id), syncing.filter(shop_id=shop_id)
    for batch_shop_id in set(open_batches.values_list("shop_id", flat=True)):
        looked, gap = _last_batch_look.get(batch_shop_id, (0, 0))
        if time.monotonic() - looked < min(gap, get_setting("BATCH_POLL_INTERVAL")):
            continue
        try:
            check_batches(batch_shop_id, report=report)
        except Exception:  # a bug of ours, an unreadable result archive: the next poll tries again
            logger.exception("Checking the batches of shop %s failed", batch_shop_id)
        # Measured after the look: a phase it submitted is looked at as soon as it is young.
        _last_batch_look[batch_shop_id] = (time.monotonic(), batch_look_gap(batch_shop_id) or 0)
    # Which shops are active is read only when a store is syncing (most rounds, none is).
    syncing_shop_ids = list(syncing.values_list("shop_id", flat=True))
    if syncing_shop_ids:
        for syncing_shop_id in MailchimpConfiguration.objects.active().filter(
                shop_id__in=syncing_shop_ids).values_list("shop_id", flat=True):
            finish_store_syncing(syncing_shop_id)


def check_webhooks(shop_id=None):
    """Ask Mailchimp whether each active shop's webhook is still registered, every WEBHOOK_CHECK_INTERVAL."""
    if not get_setting("WEBHOOK_BASE_URL"):
        return
    cutoff = timezone.now() - timedelta(seconds=get_setting("WEBHOOK_CHECK_INTERVAL"))
    configurations = MailchimpConfiguration.objects.active().filter(webhook_checked_on__lt=cutoff) | \
        MailchimpConfiguration.objects.active().filter(webhook_checked_on__isnull=True)
    if shop_id is not None:
        configurations = configurations.filter(shop_id=shop_id)
    for configuration in configurations:
        check_webhook(configuration)
