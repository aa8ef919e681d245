"""What every receiver does once it knows what changed: a sync-state row for each object, written in the
caller's transaction, and a delivery asked for after the commit."""
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.delivery import schedule_delivery


def record(shop_id, kind, object_ids, only_known=False):
    if state.record(shop_id, kind, object_ids, only_known=only_known):
        schedule_delivery(shop_id)


def loaded_value(instance, field_name):
    """The field's value on the instance, or None when the field was deferred (reading it would load it from
    the database): Django's public ``get_deferred_fields``, not the instance's ``__dict__``."""
    if field_name in instance.get_deferred_fields():
        return None
    return getattr(instance, field_name)


def remember(instance, key, value):
    """Keep ``value`` on the instance between a pre- and a post- signal (an attribute of ours)."""
    setattr(instance, key, value)


def recall(instance, key):
    """What :func:`remember` kept on the instance (None when nothing), forgotten: a later save remembers anew."""
    value = getattr(instance, key, None)
    if hasattr(instance, key):
        delattr(instance, key)
    return value
