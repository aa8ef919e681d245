"""A shop's Mailchimp configuration saved or deleted: the cached set of shops that record changes is
read again; "Send contacts who did not consent" unticked: the carts Mailchimp may hold are queued (their plans
delete those of shoppers who did not consent). A shop's domain changed (:mod:`.shops` calls :func:`shop_saved`):
its store and connected site follow it."""
from django.db.models.signals import post_delete, post_save, pre_save

from shoop_mailchimp.models import JobKind, MailchimpConfiguration, SyncKind
from shoop_mailchimp.receivers.recording import recall, remember
from shoop_mailchimp.shops import forget_recording_shops
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.delivery import schedule_delivery

CONFIGURATION_SAVED_UID = "shoop_mailchimp.configuration_saved"
CONFIGURATION_DELETED_UID = "shoop_mailchimp.configuration_deleted"
CONFIGURATION_SAVING_UID = "shoop_mailchimp.configuration_saving"
CONSENT_SETTING_SAVED_UID = "shoop_mailchimp.configuration_consent_setting_saved"
#: What a configuration being saved holds in the database: see :func:`configuration_saving`.
STORED_SEND_UNCONSENTED = "_shoop_mailchimp_stored_send_unconsented"


def configuration_saving(sender, instance, raw=False, update_fields=None, **kwargs):
    """Remember whether the stored configuration sends people who did not consent (one SELECT; configurations
    are saved rarely). Nothing for a new one, a fixture, or a save that does not write the setting."""
    stored = None
    if not raw and instance.pk and (update_fields is None or "send_unconsented" in update_fields):
        stored = sender.objects.filter(pk=instance.pk).values_list("send_unconsented", flat=True).first()
    remember(instance, STORED_SEND_UNCONSENTED, stored)


def consent_setting_saved(sender, instance, raw=False, **kwargs):
    """The shop stopped sending people who did not consent: the carts Mailchimp may hold go again through their
    plans, which delete those of shoppers who did not consent (a guest's typed address, a customer without
    consent) and leave the others unchanged (no request)."""
    stored = recall(instance, STORED_SEND_UNCONSENTED)
    if raw or not stored or instance.send_unconsented or not instance.is_initialized:
        return
    if state.record_maybe_in_mailchimp(instance.shop_id, SyncKind.CART):
        schedule_delivery(instance.shop_id)


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
    pre_save.connect(configuration_saving, sender=MailchimpConfiguration, dispatch_uid=CONFIGURATION_SAVING_UID)
    post_save.connect(consent_setting_saved, sender=MailchimpConfiguration, dispatch_uid=CONSENT_SETTING_SAVED_UID)
    post_save.connect(forget_recording_shops, sender=MailchimpConfiguration, dispatch_uid=CONFIGURATION_SAVED_UID)
    post_delete.connect(forget_recording_shops, sender=MailchimpConfiguration, dispatch_uid=CONFIGURATION_DELETED_UID)
