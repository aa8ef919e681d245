"""Celery tasks for ``SHOOP_MAILCHIMP["DELIVERY"] = "celery"``.

``drain_shop`` is published after each commit that recorded a change; ``run_due_work`` runs from the
beat schedule (every minute) for retries, admin jobs, batches and anything a lost task left behind.
Rows persist in the database, so tasks need no retries of their own: claiming leases rows
(PostgreSQL skips rows another worker holds), and a killed worker's rows come back when their lease
runs out.
"""
from celery import shared_task

from shoop_mailchimp.mailchimp.limits import shop_throttled_for
from shoop_mailchimp.sync import rounds


@shared_task(acks_late=True, ignore_result=True)
def drain_shop(shop_id):
    """One round for the shop whose commit asked for it: its admin jobs, rows, batches."""
    if shop_throttled_for(shop_id):
        # Mailchimp throttled this shop (the worker that was told shared it through Redis): claim
        # nothing now; the beat schedule's round comes back.
        return {"throttled": 1}
    return dict(rounds.run_due_work(shop_id=shop_id))


@shared_task(acks_late=True, ignore_result=True)
def run_due_work():
    return dict(rounds.run_due_work())
