from shoop_mailchimp.models.configuration import MailchimpConfiguration
from shoop_mailchimp.models.interest import ContactGroupInterest
from shoop_mailchimp.models.log import LogKind, MailchimpLogEntry
from shoop_mailchimp.models.sync_state import SyncKind, SyncState, SyncStatus

__all__ = [
    "ContactGroupInterest",
    "LogKind",
    "MailchimpConfiguration",
    "MailchimpLogEntry",
    "SyncKind",
    "SyncState",
    "SyncStatus",
]
