"""Celery tasks for ``SHOOP_MAILCHIMP["DELIVERY"] = "celery"``.

``drain_shop`` is enqueued after each commit that recorded a change; ``drain_all`` runs from the
beat schedule (every minute) for retries and anything a lost task left behind. Rows persist in
the database, so tasks need no retries of their own: claiming leases rows (PostgreSQL skips rows
another worker holds), and a killed worker's rows come back when their lease runs out.
"""
from celery import shared_task

from shoop_mailchimp.mailchimp.limits import shop_paused_for
from shoop_mailchimp.models import MailchimpBatch
from shoop_mailchimp.models.batch import BatchStatus


@shared_task(acks_late=True, ignore_result=True)
def drain_shop(shop_id):
    from shoop_mailchimp.sync.worker import drain

    if shop_paused_for(shop_id):
        # Mailchimp throttled this shop (the worker that was told shared it through Redis): claim
        # nothing now; the beat schedule's drain_all comes back.
        return {"paused": 1}
    return dict(drain(shop_id=shop_id))


@shared_task(acks_late=True, ignore_result=True)
def drain_all():
    """Enqueue a drain for every shop with due rows, and look at open bulk-sync batches."""
    from shoop_mailchimp.sync.bulk import check_batches
    from shoop_mailchimp.sync.queue import due_rows

    shop_ids = set(due_rows().values_list("shop_id", flat=True).distinct())
    for shop_id in sorted(shop_ids):
        drain_shop.delay(shop_id)
    for shop_id in set(MailchimpBatch.objects.filter(status__in=BatchStatus.OPEN).values_list("shop_id", flat=True)):
        check_batches(shop_id)
    return sorted(shop_ids)
