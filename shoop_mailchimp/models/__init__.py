from shoop_mailchimp.models.batch import BatchStatus, MailchimpBatch
from shoop_mailchimp.models.configuration import MailchimpConfiguration
from shoop_mailchimp.models.interest import ContactGroupInterest
from shoop_mailchimp.models.log import LogKind, MailchimpLogEntry
from shoop_mailchimp.models.sync_state import SyncKind, SyncState, SyncStatus

__all__ = [
    "BatchStatus",
    "ContactGroupInterest",
    "LogKind",
    "MailchimpBatch",
    "MailchimpConfiguration",
    "MailchimpLogEntry",
    "SyncKind",
    "SyncState",
    "SyncStatus",
]
