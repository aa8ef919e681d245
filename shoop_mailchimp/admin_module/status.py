"""What the status page says about one shop's sync, computed in a handful of queries."""
from datetime import timedelta

from django.db.models import Count, Max
from django.utils import timezone

from shoop_mailchimp.conf import get_delivery_mode, get_setting
from shoop_mailchimp.mailchimp.limits import shop_paused_for
from shoop_mailchimp.models import LogKind, MailchimpLogEntry, SyncKind, SyncState, SyncStatus


def status_counts(shop, kind):
    counts = dict.fromkeys((status for status, _label in SyncStatus.CHOICES), 0)
    rows = SyncState.objects.filter(shop=shop, kind=kind).values_list("status").annotate(n=Count("id"))
    counts.update(dict(rows))
    return counts


def queue_drainer(shop):
    """(mode, drained, stale pending rows): whether anything takes pending rows out of the queue."""
    mode = get_delivery_mode()
    if mode != "worker":
        return mode, True, 0
    timeout = get_setting("WORKER_HEARTBEAT_TIMEOUT")
    cutoff = timezone.now() - timedelta(seconds=timeout)
    stale = SyncState.objects.filter(
        shop=shop, status=SyncStatus.PENDING, next_attempt_at__lt=cutoff
    ).count()
    return mode, not stale, stale


def shop_status(shop, configuration):
    from shoop_mailchimp.sync import bulk

    if configuration.pk and configuration.is_active:
        bulk.check_batches(shop.pk)  # a bulk sync's results are read on each visit
    mode, drained, stale = queue_drainer(shop)
    return {
        "configuration": configuration,
        "configured": bool(configuration.pk and configuration.has_api_key and configuration.list_id),
        # Seen across processes with REDIS_URL; otherwise only a pause met by this process.
        "throttled_for": int(shop_paused_for(shop.pk) + 0.999),
        "contact_counts": status_counts(shop, SyncKind.CONTACT),
        "order_counts": status_counts(shop, SyncKind.ORDER),
        "last_synced_at": SyncState.objects.filter(shop=shop).aggregate(last=Max("last_synced_at"))["last"],
        "last_error": MailchimpLogEntry.objects.filter(shop=shop, kind=LogKind.ERROR).first(),
        "delivery_mode": mode,
        "queue_drained": drained,
        "stale_pending": stale,
        "unqueued_contacts": bulk.unqueued_ids(shop, SyncKind.CONTACT).count(),
        "batches": bulk.batch_progress(shop),
    }
