"""Basket campaigns with a coupon (Mailchimp promo rules and codes): a campaign, its name, its coupon, its
discount effects and the coupon's usage."""
from django.db.models.signals import post_delete, post_save
from shuup.campaigns.models import BasketCampaign, BasketDiscountEffect, BasketLineEffect, Coupon
from shuup.campaigns.models.campaigns import CouponUsage

from shoop_mailchimp.models import SyncKind
from shoop_mailchimp.receivers.recording import record
from shoop_mailchimp.shops import recording_shop_ids

PROMO_CAMPAIGN_SAVED_UID = "shoop_mailchimp.promo_campaign_saved"
PROMO_CAMPAIGN_DELETED_UID = "shoop_mailchimp.promo_campaign_deleted"
PROMO_CAMPAIGN_TEXT_SAVED_UID = "shoop_mailchimp.promo_campaign_text_saved"
PROMO_COUPON_SAVED_UID = "shoop_mailchimp.promo_coupon_saved"
PROMO_EFFECT_SAVED_UID = "shoop_mailchimp.promo_effect_saved.%s"
PROMO_EFFECT_DELETED_UID = "shoop_mailchimp.promo_effect_deleted.%s"
PROMO_USAGE_SAVED_UID = "shoop_mailchimp.promo_usage_saved"
PROMO_USAGE_DELETED_UID = "shoop_mailchimp.promo_usage_deleted"


def _record_promos(campaigns):
    """Basket campaigns with a coupon are promo rules; one whose coupon went is recorded only if it was sent."""
    shop_ids = recording_shop_ids()
    if not shop_ids:  # no query in a checkout of a shop that sends nothing
        return
    for campaign_id, shop_id, coupon_id in campaigns.filter(shop_id__in=shop_ids).values_list(
            "pk", "shop_id", "coupon_id"):
        record(shop_id, SyncKind.PROMO, [campaign_id], only_known=coupon_id is None)


def campaign_saved(sender, instance, raw=False, **kwargs):
    if not raw and instance.shop_id in recording_shop_ids():
        record(instance.shop_id, SyncKind.PROMO, [instance.pk], only_known=instance.coupon_id is None)


def campaign_deleted(sender, instance, **kwargs):
    """Also a coupon's deletion, which takes its campaign with it."""
    if instance.shop_id in recording_shop_ids():
        record(instance.shop_id, SyncKind.PROMO, [instance.pk], only_known=True)


def campaign_text_changed(sender, instance, raw=False, **kwargs):
    """A campaign's public name in one language: parler saves it after the campaign's ``post_save``, so a
    rename saved outside a transaction may send the campaign before its new name is in the database."""
    if not raw and instance.master_id:
        _record_promos(BasketCampaign.objects.filter(pk=instance.master_id))


def coupon_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _record_promos(BasketCampaign.objects.filter(coupon_id=instance.pk))


def campaign_effect_changed(sender, instance, raw=False, **kwargs):
    """A discount set, changed or removed; read by id: a campaign being deleted takes its effects first."""
    if not raw:
        _record_promos(BasketCampaign.objects.filter(pk=instance.campaign_id))


def coupon_usage_changed(sender, instance, raw=False, **kwargs):
    """An order used the code (or a changed order no longer does): the code's usage count follows."""
    if not raw:
        _record_promos(BasketCampaign.objects.filter(coupon_id=instance.coupon_id))


def _concrete_subclasses(model):
    """Effects are polymorphic: a save signals the concrete class only."""
    for subclass in model.__subclasses__():
        if not subclass._meta.abstract and not subclass._meta.proxy:
            yield subclass
        yield from _concrete_subclasses(subclass)


def connect():
    post_save.connect(campaign_saved, sender=BasketCampaign, dispatch_uid=PROMO_CAMPAIGN_SAVED_UID)
    post_delete.connect(campaign_deleted, sender=BasketCampaign, dispatch_uid=PROMO_CAMPAIGN_DELETED_UID)
    post_save.connect(campaign_text_changed, sender=BasketCampaign._meta.get_field("translations").related_model,
                      dispatch_uid=PROMO_CAMPAIGN_TEXT_SAVED_UID)
    post_save.connect(coupon_saved, sender=Coupon, dispatch_uid=PROMO_COUPON_SAVED_UID)
    for base in (BasketDiscountEffect, BasketLineEffect):
        for model in _concrete_subclasses(base):
            post_save.connect(campaign_effect_changed, sender=model,
                              dispatch_uid=PROMO_EFFECT_SAVED_UID % model.__name__)
            post_delete.connect(campaign_effect_changed, sender=model,
                                dispatch_uid=PROMO_EFFECT_DELETED_UID % model.__name__)
    post_save.connect(coupon_usage_changed, sender=CouponUsage, dispatch_uid=PROMO_USAGE_SAVED_UID)
    post_delete.connect(coupon_usage_changed, sender=CouponUsage, dispatch_uid=PROMO_USAGE_DELETED_UID)
