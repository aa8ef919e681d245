"""A shop's Mailchimp configuration saved or deleted: the cached set of shops that record changes is
read again. A shop's domain changed: its store and connected site follow it."""
from django.db.models.signals import post_delete, post_save, pre_save
from shuup.core.models import Shop

from shoop_mailchimp.models import JobKind, MailchimpConfiguration
from shoop_mailchimp.receivers.recording import recall, remember
from shoop_mailchimp.shops import forget_recording_shops
from shoop_mailchimp.sync.delivery import schedule_delivery

CONFIGURATION_SAVED_UID = "shoop_mailchimp.configuration_saved"
CONFIGURATION_DELETED_UID = "shoop_mailchimp.configuration_deleted"
SHOP_SAVING_UID = "shoop_mailchimp.shop_domain_saving"
SHOP_SAVED_UID = "shoop_mailchimp.shop_domain_saved"
#: Set on a shop being saved whose domain changed.
DOMAIN_CHANGED = "_shoop_mailchimp_domain_changed"


def shop_saving(sender, instance, raw=False, **kwargs):
    """Whether the save changes the shop's domain (one SELECT: shops are saved rarely, in the admin)."""
    if raw or not instance.pk:
        return
    old = Shop.objects.filter(pk=instance.pk).values_list("domain", flat=True).first()
    remember(instance, DOMAIN_CHANGED, (old or "") != (instance.domain or ""))


def shop_saved(sender, instance, raw=False, **kwargs):
    """A connected shop whose domain changed (or that has one at last): the store and its connected site follow it,
    in a job (the admin's save calls no Mailchimp). Where the shop's domain names the site the shop was connected
    on (no WEBHOOK_BASE_URL), the staging guard holds the shop until an admin confirms the new address
    (:mod:`shoop_mailchimp.sites`): the confirmation queues the job then."""
    if raw or not recall(instance, DOMAIN_CHANGED):
        return
    configuration = MailchimpConfiguration.objects.filter(
        shop_id=instance.pk, initialized_on__isnull=False, disconnected_on__isnull=True).first()
    if configuration is not None and configuration.site_mismatch is None:
        from shoop_mailchimp.sync.jobs import request_job  # jobs imports the initialization, which imports receivers

        request_job(instance.pk, JobKind.FOLLOW_DOMAIN)
        schedule_delivery(instance.pk)


def connect():
    post_save.connect(forget_recording_shops, sender=MailchimpConfiguration, dispatch_uid=CONFIGURATION_SAVED_UID)
    post_delete.connect(forget_recording_shops, sender=MailchimpConfiguration, dispatch_uid=CONFIGURATION_DELETED_UID)
    pre_save.connect(shop_saving, sender=Shop, dispatch_uid=SHOP_SAVING_UID)
    post_save.connect(shop_saved, sender=Shop, dispatch_uid=SHOP_SAVED_UID)
