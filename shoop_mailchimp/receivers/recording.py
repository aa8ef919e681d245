"""What every receiver does once it knows what changed: a sync-state row for each object, written in the
caller's transaction, and a delivery asked for after the commit."""
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.delivery import schedule_delivery


def record(shop_id, kind, object_ids, only_known=False):
    if state.record(shop_id, kind, object_ids, only_known=only_known):
        schedule_delivery(shop_id)
