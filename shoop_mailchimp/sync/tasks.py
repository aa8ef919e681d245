"""Celery tasks for ``SHOOP_MAILCHIMP["DELIVERY"] = "celery"``.

``drain_shop`` is published after each commit that recorded a change (and follows itself while the shop
has open batches, as often as :func:`rounds.batch_look_gap` says); ``run_due_work`` runs from the beat schedule
(every minute) for retries, admin jobs, batches and anything a lost task left behind.
Rows persist in the database, so tasks need no retries of their own: claiming leases rows
(PostgreSQL skips rows another worker holds), and a killed worker's rows come back when their lease
runs out.
"""
import threading
import time

from celery import shared_task

from shoop_mailchimp.mailchimp.limits import KEY_PREFIX, redis_client, shop_throttled_for
from shoop_mailchimp.sync import rounds

_lock = threading.Lock()
#: {shop id: time.monotonic() until which a look at its batches is booked}, when REDIS_URL is not set.
_local_looks = {}


@shared_task(acks_late=True, ignore_result=True)
def drain_shop(shop_id):
    """One round for the shop whose commit asked for it: its admin jobs, rows, batches. While the shop has
    open batches, another round follows when they are next looked at (:func:`rounds.batch_look_gap`): a
    burst's next phase would otherwise wait for beat's round (a minute)."""
    if shop_throttled_for(shop_id):
        # Mailchimp throttled this shop (the worker that was told shared it through Redis): claim
        # nothing now; the beat schedule's round comes back.
        return {"throttled": 1}
    report = dict(rounds.run_due_work(shop_id=shop_id, woken=True))
    gap = rounds.batch_look_gap(shop_id)
    if gap is not None and book_batch_look(shop_id, gap):
        drain_shop.apply_async((shop_id,), countdown=gap)
    return report


def book_batch_look(shop_id, seconds):
    """Whether this task may schedule the shop's next look at its batches: one per ``seconds`` across the
    workers sharing Redis (else within this process), so that the tasks of many commits do not each
    start a chain of looks."""
    client = redis_client()
    if client is not None:
        import redis

        try:
            return bool(client.set(KEY_PREFIX + "batch-look:%s" % shop_id, "1", nx=True,
                                   px=max(1, int(seconds * 1000))))
        except redis.RedisError:
            pass
    now = time.monotonic()
    with _lock:
        if _local_looks.get(shop_id, 0) > now:
            return False
        _local_looks[shop_id] = now + seconds
        return True


@shared_task(acks_late=True, ignore_result=True)
def run_due_work():
    return dict(rounds.run_due_work())
