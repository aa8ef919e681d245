"""What the status page says about one shop's sync, from the database alone (a handful of queries)."""
from datetime import timedelta

from django.db.models import Count, Max, Min
from django.utils import timezone

from shoop_mailchimp.conf import get_delivery_mode, get_setting
from shoop_mailchimp.mailchimp.limits import shop_throttled_for
from shoop_mailchimp.models import LogKind, MailchimpJob, MailchimpLogEntry, SyncKind, SyncState, SyncStatus
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.jobs import open_jobs


def status_counts(shop, kind):
    counts = dict.fromkeys((status for status, _label in SyncStatus.CHOICES), 0)
    rows = SyncState.objects.filter(shop=shop, kind=kind).values_list("status").annotate(n=Count("id"))
    counts.update(dict(rows))
    return counts


def overdue_rows(shop):
    """Due rows nobody took for longer than OVERDUE_AFTER: then no drainer is running."""
    cutoff = timezone.now() - timedelta(seconds=get_setting("OVERDUE_AFTER"))
    return SyncState.objects.filter(shop=shop, status=SyncStatus.PENDING, next_attempt_at__lt=cutoff).count()


def shop_status(shop, configuration):
    pending = SyncState.objects.filter(shop=shop, status=SyncStatus.PENDING)
    return {
        "configuration": configuration,
        "configured": bool(configuration.pk and configuration.has_api_key and configuration.list_id),
        # Seen across processes with REDIS_URL; otherwise only a pause met by this process.
        "throttled_for": int(shop_throttled_for(shop.pk) + 0.999),
        "contact_counts": status_counts(shop, SyncKind.CONTACT),
        "order_counts": status_counts(shop, SyncKind.ORDER),
        "group_counts": status_counts(shop, SyncKind.GROUP),
        "last_synced_at": SyncState.objects.filter(shop=shop).aggregate(last=Max("last_synced_at"))["last"],
        "next_attempt_at": pending.filter(attempts__gt=0).aggregate(next=Min("next_attempt_at"))["next"],
        "last_error": MailchimpLogEntry.objects.filter(shop=shop, kind=LogKind.ERROR).first(),
        "delivery_mode": get_delivery_mode(),
        "overdue": overdue_rows(shop),
        "unqueued_contacts": bulk.unqueued_ids(shop.pk, SyncKind.CONTACT).count(),
        "batches": bulk.batch_progress(shop.pk),
        "open_jobs": list(open_jobs(shop.pk)),
        "last_jobs": list(MailchimpJob.objects.filter(shop=shop).exclude(pk__in=open_jobs(shop.pk))[:3]),
    }
