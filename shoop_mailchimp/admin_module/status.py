"""What the status page says about one shop's sync, from the database alone (a handful of queries)."""
from datetime import timedelta

from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import ugettext as _
from django.utils.translation import ungettext

from shoop_mailchimp.admin_module.health import delivery_days, shop_health_for
from shoop_mailchimp.conf import get_delivery_mode, get_setting
from shoop_mailchimp.mailchimp.limits import shop_throttled_for
from shoop_mailchimp.models import (
    JobKind,
    JobStatus,
    LogKind,
    MailchimpJob,
    MailchimpLogEntry,
    SyncKind,
    SyncState,
    SyncStatus,
)
from shoop_mailchimp.sync import bulk, kinds
from shoop_mailchimp.sync.jobs import open_jobs


def kind_counts(shop):
    """Each kind's rows by status, in the order the sync sends the kinds: ``(kind, title, {status: count})``."""
    counts = {module.KIND: dict.fromkeys((status for status, _label in SyncStatus.CHOICES), 0)
              for module in kinds.KINDS}
    for kind, status, number in SyncState.objects.filter(shop=shop).order_by().values_list(
            "kind", "status").annotate(number=Count("id")):
        if kind in counts:
            counts[kind][status] = number
    return [(module.KIND, module.ADMIN.title, counts[module.KIND]) for module in kinds.KINDS]


def overdue_rows(shop):
    """Due rows nobody took for longer than OVERDUE_AFTER: then no drainer is running."""
    cutoff = timezone.now() - timedelta(seconds=get_setting("OVERDUE_AFTER"))
    return SyncState.objects.filter(shop=shop, status=SyncStatus.PENDING, next_attempt_at__lt=cutoff).count()


def bulk_progress(shop):
    """The batches of the latest sync of existing contacts (and orders), for a progress bar."""
    progress = bulk.batch_progress(shop.pk)
    if progress["percent"] is None:
        progress["percent"] = 100 if progress["done"] else 0
    return progress


def bulk_text(progress, unqueued, last_sync=None):
    """One sentence on the bulk sync: what is done, and what was never sent. ``last_sync`` is the latest
    finished sync job, whose own message says it when it found nothing to put in a batch."""
    if progress["open"]:
        text = ungettext("%(finished)d of %(operations)d operations done in %(open)d open batch.",
                         "%(finished)d of %(operations)d operations done in %(open)d open batches.",
                         progress["open"]) % {"finished": progress["finished_operations"],
                                              "operations": progress["operations"], "open": progress["open"]}
        if progress["burst_rows"]:
            text += " " + ungettext(
                "%(rows)d changed contact goes through them: more contacts were due at once than the burst "
                "threshold, so they are sent in batches rather than one by one.",
                "%(rows)d changed contacts go through them: more contacts were due at once than the burst "
                "threshold, so they are sent in batches rather than one by one.",
                progress["burst_rows"]) % {"rows": progress["burst_rows"]}
    elif progress["done"]:
        text = ungettext("%(done)d batch finished.", "%(done)d batches finished.", progress["done"]) % {
            "done": progress["done"]}
    elif last_sync is not None:
        text = "%s %s" % (_("The last sync found nothing to send:"), last_sync.message)
    else:
        text = _("No sync of existing contacts has run.")
    if unqueued:
        text += " " + ungettext("%(num)d contact was never sent to Mailchimp.",
                                "%(num)d contacts were never sent to Mailchimp.", unqueued) % {"num": unqueued}
    return text


def chart(days):
    """Bar heights (0-100) for the deliveries chart; one scale for both series."""
    peak = max([day["delivered"] for day in days] + [day["failed"] for day in days] + [1])
    return [dict(day, delivered_height=round(100 * day["delivered"] / peak),
                 failed_height=round(100 * day["failed"] / peak)) for day in days]


def throttled_seconds(shop):
    """Seen across processes with REDIS_URL; otherwise only a throttle met by this process."""
    return int(shop_throttled_for(shop.pk) + 0.999)


def health_now(shop, configuration):
    """The health alone, for the dashboard block and the notifications (a few queries)."""
    return shop_health_for(shop, configuration, overdue_rows(shop), throttled_seconds(shop))


def shop_status(shop, configuration):
    pending = SyncState.objects.filter(shop=shop, status=SyncStatus.PENDING)
    overdue = overdue_rows(shop)
    throttled_for = throttled_seconds(shop)
    jobs = list(open_jobs(shop.pk))
    unqueued = bulk.unqueued_ids(shop.pk, SyncKind.CONTACT).count()
    batches = bulk_progress(shop)
    return {
        "configuration": configuration,
        "configured": bool(configuration.pk and configuration.has_api_key and configuration.list_id),
        "health": shop_health_for(shop, configuration, overdue, throttled_for),
        "throttled_for": throttled_for,
        "status_labels": dict(SyncStatus.CHOICES),
        "kind_counts": kind_counts(shop),
        "last_synced_at": SyncState.objects.filter(shop=shop).aggregate(last=Max("last_synced_at"))["last"],
        "next_attempt_at": pending.filter(attempts__gt=0).aggregate(next=Min("next_attempt_at"))["next"],
        "last_error": MailchimpLogEntry.objects.filter(shop=shop, kind=LogKind.ERROR).first(),
        "delivery_mode": get_delivery_mode(),
        "overdue": overdue,
        "overdue_text": ungettext(
            "%(num)d item has waited too long to be sent: is a drainer running (see the Delivery setting)?",
            "%(num)d items have waited too long to be sent: is a drainer running (see the Delivery setting)?",
            overdue) % {"num": overdue},
        "unqueued_contacts": unqueued,
        "batches": batches,
        "bulk_text": bulk_text(batches, unqueued, MailchimpJob.objects.filter(
            shop=shop, kind=JobKind.SYNC_EXISTING, status=JobStatus.DONE).order_by("-pk").first()),
        "open_jobs": jobs,
        # Reconciliations, hourly, have their own block: they would push the admin's own jobs out of these.
        "last_jobs": list(MailchimpJob.objects.filter(shop=shop).exclude(pk__in=[job.pk for job in jobs]).exclude(
            kind=JobKind.RECONCILE)[:3]),
        "days": chart(delivery_days(shop)),
    }


def status_data(status):
    """The figures the status page refreshes while it is open, as JSON-ready data."""
    health = status["health"]
    return {
        "health": health._asdict(),
        "counts": {kind: counts for kind, _title, counts in status["kind_counts"]},
        "bulk": {"percent": status["batches"]["percent"], "text": status["bulk_text"]},
        "jobs": [{"label": str(job.get_kind_display()), "state": str(_("queued") if job.status == "queued"
                                                                      else _("in progress"))}
                 for job in status["open_jobs"]],
    }
