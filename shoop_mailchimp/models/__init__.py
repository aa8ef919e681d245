from shoop_mailchimp.models.address_key import ContactAddressKey, OrderAddressKey
from shoop_mailchimp.models.attribution import OrderAttribution
from shoop_mailchimp.models.batch import BatchOrigin, BatchStatus, MailchimpBatch
from shoop_mailchimp.models.configuration import MailchimpConfiguration
from shoop_mailchimp.models.interest import ContactGroupInterest
from shoop_mailchimp.models.job import JobKind, JobStatus, MailchimpJob
from shoop_mailchimp.models.log import LogKind, MailchimpLogEntry
from shoop_mailchimp.models.shop_consent import ProvenAddress, ShopConsent
from shoop_mailchimp.models.sync_state import ConsentRequest, SyncKind, SyncState, SyncStatus

__all__ = [
    "BatchOrigin",
    "BatchStatus",
    "ConsentRequest",
    "ContactAddressKey",
    "ContactGroupInterest",
    "JobKind",
    "JobStatus",
    "LogKind",
    "MailchimpBatch",
    "MailchimpConfiguration",
    "MailchimpJob",
    "MailchimpLogEntry",
    "OrderAddressKey",
    "OrderAttribution",
    "ProvenAddress",
    "ShopConsent",
    "SyncKind",
    "SyncState",
    "SyncStatus",
]
