"""A contact or an order saved: its e-mail address recorded as one key to compare
(:func:`~shoop_mailchimp.mailchimp.members.address_key`, in :class:`~shoop_mailchimp.models.ContactAddressKey` and
:class:`~shoop_mailchimp.models.OrderAddressKey`), in the save's transaction. The look-ups of an address
(:func:`shoop_mailchimp.shops.shop_contacts_with_keys`, :func:`shoop_mailchimp.shops.orders_with_keys`) compare
these keys: a spelling stored in the shop (a fullwidth letter, a decomposed or upper-case Unicode domain) that the
typed address cannot name is found all the same. Connected before the other receivers, which look addresses up.

The key follows what the save wrote, not what the instance was loaded with: Shuup saves instances it loaded earlier
in full (a checkout's customer, an admin form's contact), so a save can write back an address another request had
changed since, and ``refresh_from_db()`` loads another address without ``post_init``. Each save that writes the
address therefore costs one statement, an upsert keyed on the computed key that writes the row only when the key
differs (``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` on SQLite and PostgreSQL), never a read then a write. A save
whose ``update_fields`` leave ``email`` out, or of an instance whose ``email`` is deferred, writes nothing; a
deleted contact or order takes its key with it (``CASCADE``). Rows written without ``save()`` (a queryset
``update()`` of ``email``, ``bulk_create``) are not seen: migration ``0030`` keyed the rows that existed before."""
from django.db import connections, router
from django.db.models.signals import post_save
from shuup.core.models import CompanyContact, Contact, Order, PersonContact

from shoop_mailchimp.mailchimp.members import address_key
from shoop_mailchimp.models import ContactAddressKey, OrderAddressKey
from shoop_mailchimp.receivers.recording import loaded_value

SAVED_UID = "shoop_mailchimp.address_saved.%s"
KEY_MODELS = {Contact: ContactAddressKey, PersonContact: ContactAddressKey, CompanyContact: ContactAddressKey,
              Order: OrderAddressKey}
#: The backends whose ``INSERT`` takes ``ON CONFLICT (...) DO UPDATE ... WHERE`` (SQLite 3.24+, PostgreSQL 9.5+).
UPSERT_VENDORS = ("sqlite", "postgresql")


def address_saved(sender, instance, update_fields=None, **kwargs):
    if update_fields is not None and "email" not in update_fields:
        return
    email = loaded_value(instance, "email")
    if email is None:
        return
    write_key(KEY_MODELS[sender], instance.pk, address_key(email))


def write_key(model, pk, key):
    """One statement: the key row inserted, or updated where its key differs (a row already right is not written)."""
    connection = connections[router.db_for_write(model)]
    if connection.vendor not in UPSERT_VENDORS:
        if model.objects.filter(pk=pk).exclude(key=key).update(key=key) == 0:
            model.objects.get_or_create(pk=pk, defaults={"key": key})
        return
    quote = connection.ops.quote_name
    table, pk_column, key_column = (quote(model._meta.db_table), quote(model._meta.pk.column),
                                    quote(model._meta.get_field("key").column))
    sql = ("INSERT INTO {table} ({pk}, {key}) VALUES (%s, %s) ON CONFLICT ({pk}) DO UPDATE SET {key} = excluded.{key} "
           "WHERE {table}.{key} <> excluded.{key}").format(table=table, pk=pk_column, key=key_column)
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk, key])


def connect():
    for model in KEY_MODELS:
        post_save.connect(address_saved, sender=model, dispatch_uid=SAVED_UID % model.__name__)
