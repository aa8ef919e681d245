"""What the status page says about one shop's sync, computed in a handful of queries."""
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone
from shuup.core.models import Contact

from shoop_mailchimp.conf import get_delivery_mode, get_setting
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
        "configured": bool(configuration.pk and configuration.api_key and configuration.list_id),
        "contact_counts": status_counts(shop, SyncKind.CONTACT),
        "order_counts": status_counts(shop, SyncKind.ORDER),
        "last_synced_at": SyncState.objects.filter(shop=shop).aggregate(last=Max("last_synced_at"))["last"],
        "last_error": MailchimpLogEntry.objects.filter(shop=shop, kind=LogKind.ERROR).first(),
        "delivery_mode": mode,
        "queue_drained": drained,
        "stale_pending": stale,
        "unqueued_contacts": unqueued_contact_ids(shop).count(),
        "batches": bulk.batch_progress(shop),
    }


def shop_contacts(shop):
    """The contacts of a shop as Shuup's admin lists them."""
    contacts = Contact.objects.all()
    if settings.SHUUP_ENABLE_MULTIPLE_SHOPS and settings.SHUUP_MANAGE_CONTACTS_PER_SHOP:
        contacts = contacts.filter(shops=shop)
    return contacts


def unqueued_contact_ids(shop):
    known = SyncState.objects.filter(shop=shop, kind=SyncKind.CONTACT).values("object_id")
    return shop_contacts(shop).exclude(pk__in=known).values_list("pk", flat=True)

