"""Writing MailchimpLogEntry rows: one per Mailchimp command or process step.

Deliveries collect entries and write them in one query per chunk; one-off actions write at once.
Nothing here ever receives the API key.
"""
import threading

from shoop_mailchimp.mailchimp.errors import MailchimpError
from shoop_mailchimp.models import LogKind, MailchimpLogEntry


def log_event(shop_id, action, message, kind=LogKind.INFO, user=None, **fields):
    return MailchimpLogEntry.objects.create(
        shop_id=shop_id, action=action, message=message[:4000], kind=kind, user=user, **fields
    )


class Journal:
    def __init__(self, shop_id, user=None):
        self.shop_id = shop_id
        self.user = user
        self.entries = []
        # Concurrent contact sends add entries from worker threads.
        self._lock = threading.Lock()

    def add(self, action, message, kind=LogKind.INFO, contact_id=None, order_id=None, extra=None):
        entry = MailchimpLogEntry(
            shop_id=self.shop_id, action=action, message=message[:4000], kind=kind, user=self.user,
            contact_id=contact_id, order_id=order_id, extra=extra,
        )
        with self._lock:
            self.entries.append(entry)

    def error(self, action, error, extra=None, **fields):
        data = dict(extra or {})
        if isinstance(error, MailchimpError):
            data.update(error.as_log_data())
        else:
            data["error"] = error.__class__.__name__
        self.add(action, str(error), kind=LogKind.ERROR, extra=data, **fields)

    def flush(self):
        with self._lock:
            entries, self.entries = self.entries, []
        if not entries:
            return
        try:
            MailchimpLogEntry.objects.bulk_create(entries)
        except Exception:
            with self._lock:  # kept for the next flush rather than lost with a failed write
                self.entries[:0] = entries
            raise
