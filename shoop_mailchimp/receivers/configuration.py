"""A shop's Mailchimp configuration saved or deleted: the cached set of shops that record changes is
read again."""
from django.db.models.signals import post_delete, post_save

from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.shops import forget_recording_shops

CONFIGURATION_SAVED_UID = "shoop_mailchimp.configuration_saved"
CONFIGURATION_DELETED_UID = "shoop_mailchimp.configuration_deleted"


def connect():
    post_save.connect(forget_recording_shops, sender=MailchimpConfiguration, dispatch_uid=CONFIGURATION_SAVED_UID)
    post_delete.connect(forget_recording_shops, sender=MailchimpConfiguration, dispatch_uid=CONFIGURATION_DELETED_UID)
