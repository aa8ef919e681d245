"""The address keys of the contacts and orders whose address is not all ASCII, recomputed with IDNA 2008 (UTS 46
non-transitional) as :func:`shoop_mailchimp.mailchimp.members.address_key` now computes them: under IDNA 2003 a
stored ``anna@straße.de`` was keyed as ``anna@strasse.de`` (another domain), ``ς`` as ``σ``, and a joiner was dropped.
An all-ASCII address has the same key under both, so only the others are computed and written (one read of the
addresses, a write per key that changed). A contact whose key changed was sent to Mailchimp under the other domain:
its rows already sent (not erased) are queued again, as a save of the contact queues them, so that its next send
addresses its own mailbox (the member Mailchimp has under the other domain is readdressed). Reversed, the keys are
those of IDNA 2003 again (nothing is queued)."""
import importlib

import idna
from django.db import migrations
from django.db.models import F
from django.utils import timezone

#: Addresses read per query of the key rows.
BATCH = 2000


def idna2008_key(email):
    # As shoop_mailchimp.mailchimp.members.address_key when this migration was written.
    email = (email or "").strip()
    local, at, domain = email.rpartition("@")
    if at and not domain.isascii():
        try:
            email = "%s@%s" % (local, idna.encode(domain, uts46=True, transitional=False).decode("ascii"))
        except UnicodeError:
            pass
    return email.lower()


#: The key migration 0030 computed (Python's IDNA 2003 codec), for the reverse.
idna2003_key = importlib.import_module("shoop_mailchimp.migrations.0030_address_keys").address_key


def rekey_batch(key_model, field, keys):
    """Write the keys that differ; returns the owners whose stored key changed."""
    stored = dict(key_model.objects.filter(pk__in=list(keys)).values_list("pk", "key"))
    changed = set()
    for pk, key in keys.items():
        if pk not in stored:
            key_model.objects.create(**{field + "_id": pk, "key": key})
        elif stored[pk] != key:
            key_model.objects.filter(pk=pk).update(key=key)
            changed.add(pk)
    return changed


def rekey(model, key_model, field, key):
    keys, changed = {}, set()
    for pk, email in model.objects.order_by().values_list("pk", "email").iterator():
        if email and not email.isascii():
            keys[pk] = key(email)
            if len(keys) >= BATCH:
                changed |= rekey_batch(key_model, field, keys)
                keys = {}
    return changed | rekey_batch(key_model, field, keys)


def rekey_all(apps, key):
    contacts = rekey(apps.get_model("shuup", "Contact"), apps.get_model("shoop_mailchimp", "ContactAddressKey"),
                     "contact", key)
    rekey(apps.get_model("shuup", "Order"), apps.get_model("shoop_mailchimp", "OrderAddressKey"), "order", key)
    return contacts


def forwards(apps, schema_editor):
    contacts = sorted(rekey_all(apps, idna2008_key))
    state = apps.get_model("shoop_mailchimp", "SyncState")
    for start in range(0, len(contacts), BATCH):
        state.objects.filter(kind="contact", erase=False, object_id__in=contacts[start:start + BATCH]).update(
            version=F("version") + 1, status="pending", attempts=0, next_attempt_at=timezone.now())


def backwards(apps, schema_editor):
    rekey_all(apps, idna2003_key)


class Migration(migrations.Migration):

    dependencies = [
        ('shoop_mailchimp', '0031_consent_changed_at'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
