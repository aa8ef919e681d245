"""A contact or an order saved: its e-mail address recorded as one key to compare
(:func:`~shoop_mailchimp.mailchimp.members.address_key`, in :class:`~shoop_mailchimp.models.ContactAddressKey` and
:class:`~shoop_mailchimp.models.OrderAddressKey`), in the save's transaction. The look-ups of an address
(:func:`shoop_mailchimp.shops.shop_contacts_with_keys`, :func:`shoop_mailchimp.shops.orders_with_keys`) compare
these keys: a spelling stored in the shop (a fullwidth letter, a decomposed or upper-case Unicode domain) that the
typed address cannot name is found all the same. Connected before the other receivers, which look addresses up.

A save that leaves the address as loaded writes nothing; a deleted contact or order takes its key with it
(``CASCADE``). Rows written without ``save()`` (a queryset ``update()`` of ``email``, ``bulk_create``) are not seen:
migration ``0030`` keyed the rows that existed before."""
from django.db.models.signals import post_init, post_save
from shuup.core.models import CompanyContact, Contact, Order, PersonContact

from shoop_mailchimp.mailchimp.members import address_key
from shoop_mailchimp.models import ContactAddressKey, OrderAddressKey
from shoop_mailchimp.receivers.recording import loaded_value

LOADED_UID = "shoop_mailchimp.address_loaded.%s"
SAVED_UID = "shoop_mailchimp.address_saved.%s"
#: The address the instance holds in the database (as loaded or last saved); absent on a new instance.
STORED_EMAIL = "_shoop_mailchimp_stored_email"
KEY_MODELS = {Contact: ContactAddressKey, PersonContact: ContactAddressKey, CompanyContact: ContactAddressKey,
              Order: OrderAddressKey}


def address_loaded(sender, instance, **kwargs):
    if instance.pk is not None and "email" not in instance.get_deferred_fields():
        setattr(instance, STORED_EMAIL, instance.email)


def address_saved(sender, instance, created=False, **kwargs):
    email = loaded_value(instance, "email")
    if email is None:
        return
    if not created and getattr(instance, STORED_EMAIL, None) == email:
        return
    setattr(instance, STORED_EMAIL, email)
    write_key(KEY_MODELS[sender], instance.pk, address_key(email), created)


def write_key(model, pk, key, created):
    """One query: an insert for a new contact or order, else an update (and an insert where the row is missing:
    saved without this module)."""
    if created or model.objects.filter(pk=pk).update(key=key) == 0:
        model.objects.create(pk=pk, key=key)


def connect():
    for model in KEY_MODELS:
        post_init.connect(address_loaded, sender=model, dispatch_uid=LOADED_UID % model.__name__)
        post_save.connect(address_saved, sender=model, dispatch_uid=SAVED_UID % model.__name__)
