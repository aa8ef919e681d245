"""A shop saved: what it held before the save is read once (one SELECT; shops are saved rarely, in the admin),
then the receivers that compare it learn of the change: a new domain (:mod:`.configuration`: the store and
connected site follow it) and a new currency or "prices include tax" (:mod:`.prices`: products go again)."""
from django.db.models.signals import post_save, pre_save
from shuup.core.models import Shop

from shoop_mailchimp.receivers import configuration, prices
from shoop_mailchimp.receivers.recording import recall, remember

SHOP_SAVING_UID = "shoop_mailchimp.shop_saving"
SHOP_SAVED_UID = "shoop_mailchimp.shop_saved"
#: What a shop being saved holds in the database: see :func:`shop_saving`.
STORED_SHOP = "_shoop_mailchimp_stored_shop"
STORED_FIELDS = ("domain",) + prices.SHOP_PRICE_FIELDS


def shop_saving(sender, instance, raw=False, **kwargs):
    """Remember the shop's stored domain, currency and "prices include tax" (None for a new shop or a fixture)."""
    stored = None
    if not raw and instance.pk:
        stored = sender.objects.filter(pk=instance.pk).values(*STORED_FIELDS).first()
    remember(instance, STORED_SHOP, stored)


def shop_saved(sender, instance, raw=False, **kwargs):
    stored = recall(instance, STORED_SHOP)
    if raw or stored is None:
        return
    configuration.shop_saved(instance, stored)
    prices.shop_saved(instance, stored)


def connect():
    pre_save.connect(shop_saving, sender=Shop, dispatch_uid=SHOP_SAVING_UID)
    post_save.connect(shop_saved, sender=Shop, dispatch_uid=SHOP_SAVED_UID)
