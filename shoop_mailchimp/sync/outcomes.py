"""Closing a claimed row: synced, skipped, failed or retried later.

A row's status becomes final only if no newer change was recorded while it was being sent;
otherwise it returns to pending and the newer state is sent next.
"""
from django.db.models import Case, F, Value, When
from django.utils import timezone

from shoop_mailchimp.models import SyncState, SyncStatus
from shoop_mailchimp.sync.backoff import gives_up, next_attempt


def _close(row, status, **fields):
    SyncState.objects.filter(id=row.id, claimed_by=row.claimed_by).update(
        status=Case(When(version=row.claimed_version, then=Value(status)), default=Value(SyncStatus.PENDING)),
        lease_until=None,
        claimed_by="",
        **fields,
    )


def mark_synced(row, **fields):
    _close(row, SyncStatus.SYNCED, attempts=0, last_error="", last_error_data=None,
           last_synced_at=timezone.now(), **fields)


def mark_skipped(row, reason, **fields):
    _close(row, SyncStatus.SKIPPED, last_error=reason, last_error_data=None, **fields)


def mark_failed(row, error, data=None):
    _close(row, SyncStatus.FAILED, attempts=F("attempts") + 1, last_error=str(error)[:4000], last_error_data=data)


def mark_retry(row, error, data=None):
    """A transient failure: try again after a backoff, or give up after MAX_ATTEMPTS."""
    attempts = row.attempts + 1
    if gives_up(attempts):
        _close(row, SyncStatus.FAILED, attempts=attempts, last_error=str(error)[:4000], last_error_data=data)
        return False
    SyncState.objects.filter(id=row.id, claimed_by=row.claimed_by).update(
        status=SyncStatus.PENDING, lease_until=None, claimed_by="", attempts=attempts,
        next_attempt_at=next_attempt(timezone.now(), attempts),
        last_error=str(error)[:4000], last_error_data=data,
    )
    return True


def remove(row):
    SyncState.objects.filter(id=row.id, claimed_by=row.claimed_by, version=row.claimed_version).delete()
