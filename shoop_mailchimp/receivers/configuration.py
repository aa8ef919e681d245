"""A shop's Mailchimp configuration saved or deleted: the cached set of shops that record changes is
read again. A shop's domain changed (:mod:`.shops` calls :func:`shop_saved`): its store and connected site
follow it."""
from django.db.models.signals import post_delete, post_save

from shoop_mailchimp.models import JobKind, MailchimpConfiguration
from shoop_mailchimp.shops import forget_recording_shops
from shoop_mailchimp.sync.delivery import schedule_delivery

CONFIGURATION_SAVED_UID = "shoop_mailchimp.configuration_saved"
CONFIGURATION_DELETED_UID = "shoop_mailchimp.configuration_deleted"


def shop_saved(shop, stored):
    """A connected shop whose domain changed (or that has one at last): the store and its connected site follow it,
    in a job (the admin's save calls no Mailchimp). Where the shop's domain names the site the shop was connected
    on (no WEBHOOK_BASE_URL), the staging guard holds the shop until an admin confirms the new address
    (:mod:`shoop_mailchimp.sites`): the confirmation queues the job then."""
    if (stored["domain"] or "") == (shop.domain or ""):
        return
    configuration = MailchimpConfiguration.objects.filter(
        shop_id=shop.pk, initialized_on__isnull=False, disconnected_on__isnull=True).first()
    if configuration is not None and configuration.site_mismatch is None:
        from shoop_mailchimp.sync.jobs import request_job  # jobs imports the initialization, which imports receivers

        request_job(shop.pk, JobKind.FOLLOW_DOMAIN)
        schedule_delivery(shop.pk)


def connect():
    post_save.connect(forget_recording_shops, sender=MailchimpConfiguration, dispatch_uid=CONFIGURATION_SAVED_UID)
    post_delete.connect(forget_recording_shops, sender=MailchimpConfiguration, dispatch_uid=CONFIGURATION_DELETED_UID)
