"""The durable queue: sync-state rows written in the caller's transaction, claimed by workers."""
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, router, transaction
from django.db.models import F, Q, Subquery
from django.utils import timezone

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.models import MailchimpConfiguration, SyncState, SyncStatus
from shoop_mailchimp.sync.delivery import schedule_delivery

ACTIVE_SHOPS_CACHE_KEY = "shoop_mailchimp:recording_shop_ids"
#: Other processes see a configuration change after at most this many seconds (this one at once).
ACTIVE_SHOPS_CACHE_SECONDS = 5


def active_shop_ids():
    """Shops whose changes are recorded; cached briefly so that a contact save costs no extra query."""
    shop_ids = cache.get(ACTIVE_SHOPS_CACHE_KEY)
    if shop_ids is None:
        shop_ids = list(MailchimpConfiguration.objects.recording().values_list("shop_id", flat=True))
        cache.set(ACTIVE_SHOPS_CACHE_KEY, shop_ids, ACTIVE_SHOPS_CACHE_SECONDS)
    return shop_ids


def forget_active_shops(**kwargs):
    cache.delete(ACTIVE_SHOPS_CACHE_KEY)


def shop_ids_for_contact(contact, shop_ids=None):
    """The active shops a contact belongs to (all of them unless Shuup manages contacts per shop)."""
    shop_ids = active_shop_ids() if shop_ids is None else shop_ids
    if not shop_ids:
        return []
    if settings.SHUUP_ENABLE_MULTIPLE_SHOPS and settings.SHUUP_MANAGE_CONTACTS_PER_SHOP:
        return list(contact.shops.filter(pk__in=shop_ids).values_list("pk", flat=True))
    return shop_ids


def record(shop_id, kind, object_ids, erase=False, only_known=False):
    """Note that Mailchimp must learn the current state of these objects; schedule delivery.

    Runs inside the caller's transaction: the change and the note commit (or roll back) together.
    An erased person stays erased: later saves of the anonymized contact are not sent.
    ``only_known`` limits the note to objects Mailchimp has already been told about.
    """
    object_ids = set(object_ids)
    if not object_ids:
        return
    now = timezone.now()

    def rows(ids):
        return SyncState.objects.filter(shop_id=shop_id, kind=kind, object_id__in=ids)

    changes = dict(version=F("version") + 1, status=SyncStatus.PENDING, attempts=0, next_attempt_at=now,
                   last_error="")
    if erase:
        if rows(object_ids).update(erase=True, **changes):
            schedule_delivery(shop_id)
        return
    existing = {
        object_id: (bool(erased), status == SyncStatus.PENDING and not claimed_by and not attempts)
        for object_id, erased, status, claimed_by, attempts in _existing_rows(shop_id, kind, object_ids)
    }
    missing = set() if only_known else object_ids - set(existing)
    if missing:
        SyncState.objects.bulk_create(
            [SyncState(shop_id=shop_id, kind=kind, object_id=pk, next_attempt_at=now) for pk in missing],
            ignore_conflicts=True,
        )
    # A row already waiting untouched sends the newest state anyway: leaving it alone makes rapid
    # edits cost no write. Rows being sent or retried get a new version, so the newer state follows.
    to_bump = [pk for pk, (erased, waiting) in existing.items() if not erased and not waiting]
    if to_bump:
        rows(to_bump).update(**changes)
    if not missing and all(erased for erased, _ in existing.values()):
        return
    schedule_delivery(shop_id)


def _existing_rows(shop_id, kind, object_ids):
    """The rows ``record`` looks at, in plain SQL: this runs on every contact save, and building the
    equivalent queryset costs more than the query itself."""
    connection = connections[router.db_for_read(SyncState)]
    sql = "SELECT object_id, erase, status, claimed_by, attempts FROM %s WHERE shop_id = %%s AND kind = %%s " \
          "AND object_id IN (%s)" % (connection.ops.quote_name(SyncState._meta.db_table),
                                     ", ".join(["%s"] * len(object_ids)))
    with connection.cursor() as cursor:
        cursor.execute(sql, [shop_id, kind, *object_ids])
        return cursor.fetchall()


def due_rows(shop_id=None, now=None, kind=None):
    """Pending rows whose time has come, and rows whose worker's lease ran out mid-delivery."""
    now = now or timezone.now()
    rows = SyncState.objects.filter(
        status__in=(SyncStatus.PENDING, SyncStatus.SENDING), next_attempt_at__lte=now
    ).filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    if shop_id is not None:
        rows = rows.filter(shop_id=shop_id)
    if kind is not None:
        rows = rows.filter(kind=kind)
    return rows


def claim(shop_id=None, limit=100, now=None, kind=None):
    """Lease up to ``limit`` due rows to this worker; a dead worker's lease simply expires.

    PostgreSQL locks the chosen rows and skips those another worker holds. Elsewhere one UPDATE
    chooses and takes them: SQLite lets only one writer in, and a read-then-write transaction
    would fail at once ("database is locked") instead of waiting its turn.
    """
    now = now or timezone.now()
    lease_until = now + timedelta(seconds=get_setting("LEASE_SECONDS"))
    token = uuid.uuid4().hex
    take = dict(status=SyncStatus.SENDING, lease_until=lease_until, claimed_by=token, claimed_version=F("version"))
    chosen = due_rows(shop_id, now, kind).order_by("next_attempt_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            ids = list(chosen.select_for_update(skip_locked=True).values_list("id", flat=True)[:limit])
            if ids:
                due_rows(shop_id, now, kind).filter(id__in=ids).update(**take)
    else:
        due_rows(shop_id, now, kind).filter(id__in=Subquery(chosen.values("id")[:limit])).update(**take)
    return list(SyncState.objects.filter(claimed_by=token))


def release(rows, delay=None):
    """Give claimed rows that are still open back, to be tried again after ``delay`` seconds."""
    changes = dict(status=SyncStatus.PENDING, lease_until=None, claimed_by="")
    if delay:
        changes["next_attempt_at"] = timezone.now() + timedelta(seconds=delay)
    SyncState.objects.filter(
        id__in=[row.id for row in rows], claimed_by__in={row.claimed_by for row in rows}
    ).update(**changes)


def resend(shop_id, state_ids=None):
    """Put failed rows of a shop back in the queue (all of them when ``state_ids`` is None)."""
    rows = SyncState.objects.filter(shop_id=shop_id, status=SyncStatus.FAILED)
    if state_ids is not None:
        rows = rows.filter(id__in=state_ids)
    count = rows.update(status=SyncStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), lease_until=None,
                        claimed_by="")
    if count:
        from shoop_mailchimp.sync.delivery import schedule_delivery

        schedule_delivery(shop_id)
    return count
