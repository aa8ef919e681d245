"""What every receiver does once it knows what changed: a sync-state row for each object, written in the
caller's transaction, and a delivery asked for after the commit."""
from shoop_mailchimp.models import SyncKind
from shoop_mailchimp.shops import address_sharers
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.delivery import schedule_delivery


def record(shop_id, kind, object_ids, only_known=False):
    if state.record(shop_id, kind, object_ids, only_known=only_known):
        schedule_delivery(shop_id)


def record_facts_changed(shop_id, contact_ids, only_known=False):
    """Contacts whose audience facts changed (an order, a group): theirs, and those of the shop's other contacts
    with the same address, already sent: one member in Mailchimp, whose tags, interests and merge fields count
    them all, written by whichever of them owns it."""
    contact_ids = set(contact_ids)
    sharers = address_sharers(shop_id, contact_ids)
    recorded = state.record(shop_id, SyncKind.CONTACT, contact_ids, only_known=only_known)
    if sharers:
        recorded = state.record(shop_id, SyncKind.CONTACT, sharers, only_known=True) or recorded
    if recorded:
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
