"""The only module that writes SyncState rows: every rule about versions, leases and attempts is here.

Invariants
----------
- ``record`` runs in the caller's transaction and always bumps ``version``: a change committed
  while a worker holds the row makes that worker's close leave it pending, so the newer state is
  sent next (compare-and-set on ``version`` against ``claimed_version``).
- A claim leases rows to one token; only the holder of the token closes or releases them; a dead
  worker's lease runs out and the rows become claimable again.
- A close records what was sent field by field, and only where the field still holds what it held
  when the row was claimed: a fact Mailchimp told us meanwhile (a webhook) is newer than the send.
- Erased rows stay erased: later saves of an anonymized contact are not sent.

It knows no kind: a kind's rules choose the objects or rows (its module in :mod:`shoop_mailchimp.sync.kinds`, or
the consent rules of :mod:`shoop_mailchimp.member_events`) and pass them in with the kind; the writes are here.
"""
import functools
import uuid
from collections import defaultdict
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Case, F, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Length
from django.utils import timezone

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.mailchimp.members import ERASED, PENDING, SUBSCRIBED, UNSUBSCRIBED, address_key
from shoop_mailchimp.models import ConsentRequest, MailchimpConfiguration, SyncState, SyncStatus
from shoop_mailchimp.sync.backoff import gives_up, next_attempt
from shoop_mailchimp.sync.outcome import ROW_DELETED, SENT, Result

#: Row fields a close may set from ``Outcome.facts``: what Mailchimp holds after the send.
FACT_FIELDS = ("email", "shop_email", "opt_in", "member_status", "fingerprint", "consent_sent_at", "unique_email_id",
               "applied_tags", "found_tags", "consent_request", "order_statuses", "confirmation_sent_at",
               "customer_sent", "foreign_member", "subscription_moved_from", "tags_compared_at", "consent_made",
               "member_written_from",
               "members_left", "fields_written")
#: Of those, the ones a Mailchimp-side event may have changed while the row was out.
MAILCHIMP_SIDE_FIELDS = ("email", "member_status", "opt_in")
#: Written by a close only where they still hold their value of claim time: Mailchimp-side facts, a shopper's
#: consent request made while the row was out (newer than the send that clears the old one), what a
#: requeue clears to have the row sent in full (a member gone from the audience, a store created again), and a
#: member learnt not the contact's while the row was out (a ``subscribe`` webhook naming a member created again), and
#: the members the contact left, one of which an ``upemail`` moved meanwhile (:func:`follow_members_left`; the
#: send's own list is then written with the move, :func:`_moved_meanwhile`).
GUARDED_FIELDS = MAILCHIMP_SIDE_FIELDS + ("consent_request", "fingerprint", "unique_email_id", "applied_tags",
                                          "found_tags", "foreign_member", "members_left")
#: Written by a close only where another field still holds its claim-time value: whose the subscription is, where the
#: member's status is as the send found it. The address's owner confirming while the send that asked them is out
#: (the ``subscribe`` webhook: the status, and the subscription theirs) must not be undone by that send's close.
GUARDED_BY = {"consent_made": "member_status"}
MAX_ERROR_LENGTH = 4000
#: Object ids per statement (older SQLite builds take at most 999 parameters).
IDS_PER_STATEMENT = 900
#: Rows a batch's notes are written for per statement: each row is three parameters (SQLite allows 999).
NOTES_PER_STATEMENT = 300
#: Rows given their member's id per UPDATE (one UPDATE per member was a third of a full reconciliation).
MEMBER_IDS_PER_UPDATE = 200
#: Rows closed per statement by close_synced_together.
ROWS_PER_CLOSE = 500


def _rows(shop_id, kind, object_ids):
    return SyncState.objects.filter(shop_id=shop_id, kind=kind, object_id__in=list(object_ids))


def cleared_fingerprint():
    """The fingerprint of rows queued to be sent again in full: one no plan computes, nor the "" of a row never sent,
    nor another clearing's, so that the close of a claim out meanwhile (its fingerprint guarded: written only where
    it still holds its claim-time value, "" for a first send, an earlier clearing's for a full re-send) never takes
    it for its own and writes its payload's back over it."""
    return "-%s" % uuid.uuid4().hex[:16]


def _pending_now(now):
    """Queued again; the last error stays until the next outcome (an unchanged refusal repeats it)."""
    return dict(version=F("version") + 1, status=SyncStatus.PENDING, attempts=0, next_attempt_at=now)


# Recording changes (in the caller's transaction) ---------------------------------------------------


def record(shop_id, kind, object_ids, only_known=False, force=False, quiet_seconds=0):
    """Note that Mailchimp must learn the current state of these objects; returns whether any row is due.

    ``only_known`` limits the note to objects Mailchimp has already been told about; ``force`` sends even
    data Mailchimp refused before (the admin's "Sync now"). ``quiet_seconds`` makes the rows due only after
    that long without a newer record: each record pushes the send back, so a burst of changes (a shopper
    filling a basket) is one send of the latest state.
    """
    object_ids = set(object_ids)
    if not object_ids:
        return False
    now = timezone.now()
    due_at = now + timedelta(seconds=quiet_seconds) if quiet_seconds else now
    # One UPDATE when every row exists: a contact saved again, the common case in a shop's requests.
    updated = _mark_due(shop_id, kind, object_ids, due_at, force)
    if updated == len(object_ids) or only_known:
        return bool(updated)
    SyncState.objects.bulk_create(
        [SyncState(shop_id=shop_id, kind=kind, object_id=pk, next_attempt_at=due_at) for pk in object_ids],
        ignore_conflicts=True,
    )
    # Also the rows just created (or created by a concurrent transaction): one UPDATE for all of them.
    return bool(_mark_due(shop_id, kind, object_ids, due_at, force))


def record_quietly(shop_id, kind, object_id, quiet_seconds):
    """:func:`record` of one object with a quiet period, skipped while its row already waits out a quiet period
    with more than half of it left: a basket saved again and again (a shopper filling it) then costs one SELECT,
    not a write, in the storefront's request. The send, when the row comes due, reads the object as it is then
    (with the last save), at least half the quiet period after that save; a save with less of the wait left
    pushes it back a full period. A row waiting out a retry's backoff is recorded as by :func:`record`. Returns
    whether the row is due (False when skipped)."""
    now = timezone.now()
    if _waits_quietly(shop_id, kind, object_id, now + timedelta(seconds=quiet_seconds / 2),
                      now + timedelta(seconds=quiet_seconds)):
        return False
    return record(shop_id, kind, [object_id], quiet_seconds=quiet_seconds)


def _waits_quietly(shop_id, kind, object_id, after, until):
    """Whether the object's row is pending (not erased, not out with a worker, no attempt failed) and due after
    ``after``, by ``until``. One SELECT by the unique key, written as SQL as :func:`_mark_due` is.

    The row is then left as it is, so no version tells a worker of the caller's change: were the row made due and
    claimed by another transaction before the caller commits, the worker would read the object as it was before
    and close the row as sent. On PostgreSQL the SELECT locks the row (``FOR UPDATE``) until the caller commits: a
    claim waits (or passes the row over), and reads the object afterwards. On SQLite the caller has written the
    object already (its post_save): no claim commits before the caller does; in autocommit the object is committed
    before the SELECT, and a claim after it reads the object as saved."""
    column = connection.ops.quote_name
    field = SyncState._meta.get_field
    when = field("next_attempt_at")
    lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM %s WHERE %s = %%s AND %s = %%s AND %s = %%s AND %s = %%s AND %s = %%s AND %s = 0 "
            "AND %s > %%s AND %s <= %%s%s" % (
                column(SyncState._meta.db_table), column("shop_id"), column("kind"), column("object_id"),
                column("status"), column("erase"), column("attempts"), column("next_attempt_at"),
                column("next_attempt_at"), lock),
            [shop_id, kind, object_id, SyncStatus.PENDING, field("erase").get_db_prep_save(False, connection),
             when.get_db_prep_save(after, connection), when.get_db_prep_save(until, connection)])
        return cursor.fetchone() is not None


def _mark_due(shop_id, kind, object_ids, now, force):
    """Queue the (not erased) rows of these objects again, as ``_pending_now`` does; returns how many.
    Written as SQL: it runs in every request that saves a contact, and Django compiling the statement
    took longer than the database running it."""
    column = connection.ops.quote_name
    assignments = ["%s = %s + 1" % (column("version"), column("version")), "%s = %%s" % column("status"),
                   "%s = 0" % column("attempts"), "%s = %%s" % column("next_attempt_at")]
    if force:
        assignments.append("%s = ''" % column("refused_fingerprint"))
    next_attempt_at = SyncState._meta.get_field("next_attempt_at").get_db_prep_save(now, connection)
    erase_flag = SyncState._meta.get_field("erase").get_db_prep_save(False, connection)
    ids = sorted(object_ids)
    table = column(SyncState._meta.db_table)
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(ids), IDS_PER_STATEMENT):
            chunk = ids[start:start + IDS_PER_STATEMENT]
            rows = "%s = %%s AND %s = %%s AND %s = %%s AND %s IN (%s)" % (
                column("shop_id"), column("kind"), column("erase"), column("object_id"), ", ".join(["%s"] * len(chunk)))
            params = [shop_id, kind, erase_flag] + chunk
            if connection.vendor == "postgresql" and len(chunk) > 1:
                # Rows locked in id order: two multi-row records (a group's members, another group's) then
                # cannot deadlock each other. A batch's close skips locked rows and never waits.
                rows = "id IN (SELECT id FROM %s WHERE %s ORDER BY id FOR UPDATE)" % (table, rows)
            cursor.execute("UPDATE %s SET %s WHERE %s" % (table, ", ".join(assignments), rows),
                           [SyncStatus.PENDING, next_attempt_at] + params)
            updated += cursor.rowcount
    return updated


def requeue(shop_id, kind, object_ids, only_known=False):
    """:func:`record` for a worker (a group's interest created again: its members are sent again with it),
    outside the shop's transactions: rows are marked due without waiting for one while holding others (see
    :func:`_update_unlocked`). Returns whether any row is due."""
    ids = sorted(set(object_ids))
    if not ids:
        return False
    now = timezone.now()
    if not only_known:
        SyncState.objects.bulk_create([SyncState(shop_id=shop_id, kind=kind, object_id=pk, next_attempt_at=now)
                                       for pk in ids], ignore_conflicts=True)
    updated = 0
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        updated += _queue_unlocked(_rows(shop_id, kind, ids[start:start + IDS_PER_STATEMENT]).filter(erase=False),
                                    **_pending_now(now))
    return bool(updated)


def shops_with_rows(kind, object_ids):
    """The ids of the shops where these objects have a known (not erased) row, in order."""
    return sorted(set(SyncState.objects.filter(kind=kind, object_id__in=list(object_ids), erase=False).values_list(
        "shop_id", flat=True)))


def record_in_shops(shop_ids, kind, object_ids):
    """:func:`record` of these objects' known rows in these shops (:func:`shops_with_rows`): a fact of theirs that
    no save tells (an address proven theirs). In the caller's transaction. Returns the ids of the shops where a
    row is due."""
    return {shop_id for shop_id in shop_ids if record(shop_id, kind, object_ids, only_known=True)}


def proven_anothers(shop_id, kind, object_ids):
    """The member of these objects' address is another contact's, who proved the address theirs (the activation
    link): their rows no longer take it as their own (``foreign_member``), whoever's send created it. A subscription
    a row's own consent made there stays that consent's (``consent_made``): its withdrawal or erasure ends it, unless
    another contact consents. Not one Mailchimp told of since the consent was sent (a ``subscribe`` event: the
    address's owner confirmed the link, or signed up on Mailchimp's form): that one is the owner's. In the caller's
    transaction."""
    rows = SyncState.objects.filter(shop_id=shop_id, kind=kind, object_id__in=list(object_ids), erase=False).exclude(
        foreign_member=True)
    told_since = Q(mailchimp_fact_at__isnull=False) & (
        Q(consent_sent_at__isnull=True) | Q(mailchimp_fact_at__gt=F("consent_sent_at")))
    rows.filter(opt_in=True).filter(Q(member_status=PENDING) | Q(member_status=SUBSCRIBED) & ~told_since).update(
        consent_made=True)
    rows.update(foreign_member=True)


def record_maybe_in_mailchimp(shop_id, kind):
    """Queue the shop's rows of the kind Mailchimp may hold (sent, an attempt's fate unknown, out with a worker) so
    that their plans look again (carts: the shop now sends only people who consented, so the plans delete those of
    shoppers who did not). In the caller's transaction. Returns whether any row is due."""
    object_ids = SyncState.objects.filter(shop_id=shop_id, kind=kind, erase=False).filter(
        Q(last_synced_at__isnull=False) | Q(last_error_data__isnull=False) | ~Q(claimed_by="")).values_list(
        "object_id", flat=True)
    return record(shop_id, kind, object_ids, only_known=True)


def erase_rows(shop_id, kind, object_ids):
    """These objects' people were erased (GDPR anonymization, contact deleted): their rows are queued erased
    (created erased where none exists), so their plans delete them in Mailchimp, and none is ever sent again (a
    later save is not sent). In the caller's transaction. Returns whether any row is due."""
    now = timezone.now()
    SyncState.objects.bulk_create([SyncState(shop_id=shop_id, kind=kind, object_id=pk, erase=True,
                                             next_attempt_at=now) for pk in object_ids], ignore_conflicts=True)
    ids = sorted(object_ids)
    due = False
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        if _rows(shop_id, kind, ids[start:start + IDS_PER_STATEMENT]).update(erase=True, **_pending_now(now)):
            due = True
    return due


def request_consent_change(shop_id, kind, contact_ids, request, unless=()):
    """A shopper's :class:`~shoop_mailchimp.models.ConsentRequest` for these contacts, in the caller's
    transaction: their rows are queued and carry it until a send clears it; a row carrying a request in
    ``unless`` keeps that one. Returns whether any row is due."""
    due = record(shop_id, kind, contact_ids)
    now = timezone.now()
    rows = _rows(shop_id, kind, contact_ids).filter(erase=False)
    rows.exclude(consent_request__in=unless).update(consent_request=request, consent_requested_at=now)
    # A consent given anew is confirmed anew: a move back no longer restores the subscription moved away.
    rows.update(consent_changed_at=now, subscription_moved_from="")
    return due


def consent_withdrawn(shop_id, kind, contact_ids):
    """The shop withdrew these contacts' consent now (the staff), in the caller's transaction, before their rows are
    queued (a send may start as soon as they are). In one UPDATE: a withdrawal of another contact with the address
    decided before it does not undo it (``consent_changed_at``, see
    :class:`~shoop_mailchimp.sync.kinds.contact.AddressUnsubscribed`); and a consent typed into the newsletter block
    not sent yet (``SIGNUP``) or a confirmation its owner has not given (``CONFIRM``) is void: the withdrawal is sent
    as any other (a member left pending unsubscribed), not as a fresh link. A request made after the withdrawal (a
    stranger's later press) asks its owner again."""
    _rows(shop_id, kind, contact_ids).filter(erase=False).update(
        consent_changed_at=timezone.now(), subscription_moved_from="",
        consent_request=Case(When(consent_request__in=(ConsentRequest.SIGNUP, ConsentRequest.CONFIRM), then=Value("")),
                             default=F("consent_request")))


def unsubscribed_under(shop_id, state_ids):
    """Another contact's withdrawal, decided before these rows' contacts last decided, unsubscribed the member of
    their address: their rows learn the member's status, a consent they last sent is no longer Mailchimp's, and
    they are sent again (by the worker, outside the shop's transactions): a consent given after the withdrawal is
    sent as a change (Mailchimp asks the address to confirm), a withdrawal finds the member as it wants it."""
    rows = SyncState.objects.filter(shop_id=shop_id, id__in=list(state_ids))
    rows.filter(opt_in=True).update(opt_in=False, consent_made=False)
    return rows.update(member_status=UNSUBSCRIBED, **_pending_now(timezone.now()))


def withdrawal_not_the_members(shop_ids, kind, object_id):
    """The object's consent, withdrawn by a save, is not sent as the member's unsubscribe in these shops (the member
    is a proven owner's who consents): the row's consent last sent is the withdrawn one already, and no unsubscribe
    asked for earlier is left to send."""
    rows = SyncState.objects.filter(shop_id__in=list(shop_ids), kind=kind, object_id=object_id)
    rows.filter(opt_in=True).update(opt_in=False, consent_made=False)
    rows.filter(consent_request=ConsentRequest.UNSUBSCRIBE).update(consent_request="")


def erase(shop_id, kind, contact_ids):
    """Forget these people in Mailchimp for good (GDPR); only rows of people ever sent exist to erase. Their consent
    ends now (``consent_changed_at``: a member another contact keeps is unsubscribed from this moment when none of
    them consents, see :class:`~shoop_mailchimp.sync.kinds.contact.ErasePlan`)."""
    now = timezone.now()
    return bool(_rows(shop_id, kind, contact_ids).update(erase=True, consent_changed_at=now, **_pending_now(now)))


def requeue_all(shop_id, kind):
    """Send every row of the kind again as if never sent: a re-created store knows none of them. A member that
    does exist keeps its status: a first send never changes it. The store is re-created in the same audience
    (choosing another one forgets its members first, see :func:`forget_audience`), so the tags the shop applied
    to its members, and those it found added by hand, stay known: the shop's own tag is still the shop's to
    remove."""
    rows = SyncState.objects.filter(shop_id=shop_id, kind=kind, erase=False)
    return _requeue(rows, fingerprint=cleared_fingerprint(), last_synced_at=None, email="", shop_email="",
                    member_status="", opt_in=None, refused_fingerprint="")


def resend_all(shop_id, kind):
    """Queue every (not erased) row of the kind again, keeping what Mailchimp holds: what the shop sends
    changed (the merge field mapping, the tag rules). A row whose payload is the same closes unchanged
    without a request; many rows due at once go through the drainer's bursts (batches)."""
    return _requeue(SyncState.objects.filter(shop_id=shop_id, kind=kind, erase=False))


def resend_as_new(shop_id, kind, object_ids):
    """Send these (sent, not erased) rows again as never sent: Mailchimp turned out to lack them (a product
    deleted there that an order names). Returns how many were queued."""
    ids = sorted(set(object_ids))
    return sum(_requeue(_rows(shop_id, kind, ids[start:start + IDS_PER_STATEMENT]).filter(
        erase=False, last_synced_at__isnull=False), fingerprint=cleared_fingerprint(), last_synced_at=None,
        refused_fingerprint="")
        for start in range(0, len(ids), IDS_PER_STATEMENT))


def forget_audience(shop_id, kind, withdrawn):
    """Initialize created the shop's store in another audience than the one its rows of the kind (contacts) describe:
    what the shop knew of the old audience's members is no fact of the new one. Every row is queued as never sent (no
    address, member status, consent last sent, member id, tags or Mailchimp event of the old audience, nor the members
    it left there, nor a lost attempt there: review aud44 F5); the rows ``withdrawn`` (ids of rows: consent last sent
    given, withdrawn in the shop since, chosen by
    :func:`shoop_mailchimp.sync.kinds.contact.forget_audience`) carry an unsubscribe request. An erasure not yet sent
    forgets its address too. Returns how many rows were queued."""
    withdrawn = sorted(withdrawn)
    for start in range(0, len(withdrawn), IDS_PER_STATEMENT):
        _queue_unlocked(SyncState.objects.filter(id__in=withdrawn[start:start + IDS_PER_STATEMENT]),
                        consent_request=ConsentRequest.UNSUBSCRIBE)
    rows = SyncState.objects.filter(shop_id=shop_id, kind=kind)
    forgotten = dict(fingerprint=cleared_fingerprint(), refused_fingerprint="", last_synced_at=None, email="",
                     shop_email="", member_status="", opt_in=None, unique_email_id="", applied_tags="", found_tags="",
                     consent_sent_at=None, mailchimp_fact_at=None, tags_compared_at=None, members_left=[],
                     member_written_from=None, fields_written=None)
    # A lost attempt (a token no live lease holds: its worker died, its answer never came, it gave up) is forgotten
    # too; a send out now keeps its claim, so that its close still records what its writes did (a customer PUT that
    # reaches the store created again in the new audience writes a member there).
    lost = dict(forgotten, claimed_by="", consent_unanswered="", move_sent_to="")
    unleased = Q(lease_until__isnull=True) | Q(lease_until__lt=timezone.now())
    queued = 0
    for these in (rows.filter(erase=True).exclude(member_status=ERASED), rows.filter(erase=False)):
        queued += _requeue(these.filter(unleased), **lost) + _requeue(these.exclude(unleased), **forgotten)
    return queued


def requeue_keeping_member(shop_id, kind):
    """Send every (not erased) row of the kind again to a re-created store in the same audience (after a disconnect
    deleted the store), keeping what the shop knows of its member (address, status, consent last sent, tags): a
    consent change made while disconnected is sent as a change, and a first send never re-subscribes anyone. The
    payload's fingerprint is cleared, so it is written again. Returns how many rows were queued."""
    return _requeue(SyncState.objects.filter(shop_id=shop_id, kind=kind, erase=False),
                    fingerprint=cleared_fingerprint(), refused_fingerprint="")


def requeue_ids(state_ids, statuses, now=None):
    """Queue again the rows of these ids that still have one of ``statuses`` (a kind chose them: carts past their
    lifetime, products past their availability); outside the shop's transactions, as :func:`requeue`. Returns how
    many were queued."""
    state_ids = sorted(state_ids)
    now = now or timezone.now()
    return sum(_queue_unlocked(SyncState.objects.filter(id__in=state_ids[start:start + IDS_PER_STATEMENT],
                                                        status__in=statuses), **_pending_now(now))
               for start in range(0, len(state_ids), IDS_PER_STATEMENT))


def built_before(moment):
    """Rows whose last payload may have been built before ``moment``: claimed before it (a payload is built
    after its row's claim; a batch's rows close minutes after it, so the close time says nothing of the
    payload's age). A row never claimed since this was kept: its last send, else its last queueing."""
    return Q(claimed_at__lt=moment) | Q(claimed_at__isnull=True, last_synced_at__lt=moment) | Q(
        claimed_at__isnull=True, last_synced_at__isnull=True, next_attempt_at__lt=moment)


def requeue_built_before(shop_id, kind, object_ids, changed_at, now=None):
    """Queue the shop's rows of the kind of these objects (ids, or a subquery of them) whose last payload was built
    before ``changed_at`` (claimed before it): what they send changed then with no save to say so. That is also a
    row still out in a batch built before then: queued now, it is sent again when the batch closes it. A row
    claimed after ``changed_at`` is left: what it sent, or found unchanged, was already built anew. Returns how
    many were queued."""
    out = (SyncStatus.SYNCED, SyncStatus.SENDING)
    ids = list(SyncState.objects.filter(
        built_before(changed_at), shop_id=shop_id, kind=kind, status__in=out, erase=False,
        object_id__in=object_ids).values_list("id", flat=True))
    return requeue_ids(ids, out, now)


def rewrite_sent(shop_id, kind, sent_since=None):
    """Send again the shop's rows of the kind Mailchimp holds (sent since ``sent_since``, when given), and those out
    with a worker now (their send may land with what is to be repaired): their fingerprint is cleared, so the plan
    writes them again. For carts: an import that began (Mailchimp started no automation for carts sent since) and
    a storefront that moved to another domain (their restore links name the old one). Returns how many were
    queued."""
    sent = Q(last_synced_at__gte=sent_since) if sent_since else Q(last_synced_at__isnull=False)
    rows = SyncState.objects.filter(shop_id=shop_id, kind=kind, erase=False).filter(sent | ~Q(claimed_by=""))
    return _requeue(rows, fingerprint=cleared_fingerprint())


def requeue_missing(state_ids):
    """Send these rows again although nothing changed: their member is gone from the audience. What the
    shop knows of the member (status, consent last sent) stays, so the send re-adds it as transactional
    and never subscribes anyone."""
    return _requeue(SyncState.objects.filter(id__in=list(state_ids), erase=False),
                    fingerprint=cleared_fingerprint(), unique_email_id="", refused_fingerprint="", applied_tags="",
                    found_tags="")


def rewrite_rows(state_ids):
    """Send these (not erased) rows again in full although nothing of theirs changed: their fingerprint is cleared,
    so the plan writes the member again (what Mailchimp held of it was cleared: an erased contact's data on a member
    another contact keeps). Returns how many were queued."""
    ids = sorted(state_ids)
    return sum(_requeue(SyncState.objects.filter(id__in=ids[start:start + IDS_PER_STATEMENT], erase=False),
                        fingerprint=cleared_fingerprint()) for start in range(0, len(ids), IDS_PER_STATEMENT))


def _requeue(rows, **resets):
    """Queue ``rows`` again (with ``resets``) for an admin's job or button: never waiting for a row while
    holding others (see :func:`_update_unlocked`), so that it cannot deadlock a shop's transaction. Called
    outside a transaction, a row a shop's transaction holds is updated once that commits; inside one, once the
    caller's commits (:func:`_update_unlocked`)."""
    return _queue_unlocked(rows, **resets, **_pending_now(timezone.now()))


def resend_failed(shop_id, state_ids=None):
    """Put failed rows of a shop back in the queue (all of them when ``state_ids`` is None). A row that gave up with
    a lost attempt's write unknown keeps its token: it is sent as that attempt's retry (see :func:`_close_row`)."""
    rows = SyncState.objects.filter(shop_id=shop_id, status=SyncStatus.FAILED)
    if state_ids is not None:
        rows = rows.filter(id__in=state_ids)
    return _queue_unlocked(rows, status=SyncStatus.PENDING, attempts=0, next_attempt_at=timezone.now(),
                           lease_until=None, refused_fingerprint="")


def make_due(shop_id):
    """Pending rows waiting for a backoff are tried at the next drain ("Send pending now")."""
    return _queue_unlocked(SyncState.objects.filter(shop_id=shop_id, status=SyncStatus.PENDING),
                           next_attempt_at=timezone.now())


def remember_member_ids(member_ids):
    """Keep Mailchimp's ids of rows' members ({row id: member id}), read by a reconciliation for rows sent
    before ids were kept; a row that learnt its id meanwhile keeps it. Returns the rows updated."""
    updated = 0
    pairs = sorted(member_ids.items())
    for start in range(0, len(pairs), MEMBER_IDS_PER_UPDATE):
        chunk = pairs[start:start + MEMBER_IDS_PER_UPDATE]
        updated += SyncState.objects.filter(id__in=[pk for pk, _id in chunk], unique_email_id="").update(
            unique_email_id=Case(*[When(id=pk, then=Value(member_id)) for pk, member_id in chunk],
                                 default=F("unique_email_id")))
    return updated


def erasures_waiting(shop_id, kind, email=None):
    """The shop's erasures recorded but not yet done in Mailchimp's audience (of ``email`` only, matched
    case-insensitively, when given): what they know of the address's member is still to act on."""
    rows = SyncState.objects.filter(shop_id=shop_id, kind=kind, erase=True).exclude(member_status=ERASED)
    return rows if email is None else rows.filter(email__iexact=email)


def rows_with_members_left(shop_id, kind):
    """The shop's rows that remember a member they left (``SyncState.members_left``, erased rows too): its JSON is
    longer than an empty list's."""
    return SyncState.objects.filter(shop_id=shop_id, kind=kind).annotate(left_size=Length("members_left")).filter(
        left_size__gt=2)


#: How often :func:`_edit_members_left` reads a row's entries again when a send's close changed them meanwhile.
MEMBERS_LEFT_ATTEMPTS = 3


def follow_members_left(shop_id, kind, old_email, new_email):
    """Mailchimp moved a member to ``new_email`` (an ``upemail``): the rows that remember a member they left at
    ``old_email`` (``SyncState.members_left``, erased ones too: their erasure reads it) remember it there now, so
    that an erasure finds it. Returns how many rows."""
    return _edit_members_left(shop_id, kind, old_email, lambda entry: dict(entry, email=new_email))


def members_left_unsubscribed(shop_id, kind, email):
    """The member at ``email`` was unsubscribed in Mailchimp (its owner): the rows that remember it as a member they
    left (erased ones too) no longer take a subscription there for the one their contact's consent made (an entry's
    ``moved``): one its owner makes since is theirs (review aud58 F3: the erasure deleted it for good). Returns how
    many rows."""
    return _edit_members_left(shop_id, kind, email, lambda entry: dict(
        {name: value for name, value in entry.items() if name != "moved"}, status=UNSUBSCRIBED))


def _edit_members_left(shop_id, kind, email, edit):
    """``edit`` (entry -> entry) on the entries of the rows' ``members_left`` at ``email`` (one query finds them):
    compare-and-set on the entries as read, read again when they changed meanwhile (a compare on the row's version
    lost the edit to a contact's save, which changes only its other fields: review pg59 F3). Returns how many rows
    were written."""
    key, written = address_key(email), 0
    for row in rows_with_members_left(shop_id, kind).only("id", "members_left"):
        entries = row.members_left or []
        for _attempt in range(MEMBERS_LEFT_ATTEMPTS):
            if not any(address_key(entry.get("email", "")) == key for entry in entries):
                break
            edited = [edit(entry) if address_key(entry.get("email", "")) == key else entry for entry in entries]
            if SyncState.objects.filter(id=row.id, members_left=entries).update(members_left=edited):
                written += 1
                break
            held = SyncState.objects.filter(id=row.id).only("members_left").first()
            entries = (held.members_left if held else None) or []
    return written


def apply_mailchimp_fact(state_ids, fired_at, resend=False, waiting_erasures=False, **fields):
    """Record a fact Mailchimp told us (a webhook) on these rows; a send under way does not undo it.

    ``resend`` also queues the rows, so the shop's own state follows the fact (an address changed in
    Mailchimp gets the shop's consent and interests). ``waiting_erasures``: only on rows that are erasures still
    waiting as it runs (not one that closed as done since they were read: its facts stay those of the finished
    erasure).
    """
    # The version moves too: a send under way when the fact arrived then closes its row pending, and the next
    # send starts from the fact (a consent request that met an unsubscribe in flight is withdrawn again).
    changes = dict(fields, mailchimp_fact_at=fired_at, version=F("version") + 1)
    if resend:
        changes.update(_pending_now(timezone.now()))
    rows = SyncState.objects.filter(id__in=list(state_ids))
    if waiting_erasures:
        rows = rows.filter(erase=True).exclude(member_status=ERASED)
    return rows.update(**changes)


# Claiming (workers) ---------------------------------------------------------------------------------


def due(shop_id=None, now=None, kind=None):
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


def claim(shop_id=None, limit=100, kind=None, lease_seconds=None, now=None, only=None):
    """Lease up to ``limit`` due rows of shops that send now to a new token; returns them as they were when claimed.
    ``only``: a ``Q`` narrowing the due rows (a bulk sync's second round takes only the rows of its own run).

    A shop that sends nothing (disconnected, paused, "Send changes" unticked, held by the staging guard:
    ``MailchimpConfiguration.objects.active()``) keeps its rows pending and unclaimed: they would fill the claim
    only to be given back, and the other shops' rows would never be reached.

    PostgreSQL locks the chosen rows and skips those another worker holds. Elsewhere one UPDATE
    chooses and takes them: SQLite lets only one writer in, and a read-then-write transaction
    would fail at once ("database is locked") instead of waiting its turn.
    """
    now = now or timezone.now()
    lease_until = now + timedelta(seconds=lease_seconds or get_setting("LEASE_SECONDS"))
    token = uuid.uuid4().hex
    take = dict(status=SyncStatus.SENDING, lease_until=lease_until, claimed_by=token, claimed_version=F("version"),
                claimed_at=now, first_claimed_at=Coalesce("first_claimed_at", Value(now)))
    sending = MailchimpConfiguration.objects.active().values("shop_id")
    chosen = _due(shop_id, now, kind, only).filter(shop_id__in=sending).order_by("next_attempt_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            found = list(chosen.select_for_update(skip_locked=True).values_list("id", "claimed_by")[:limit])
            if found:
                _due(shop_id, now, kind, only).filter(id__in=[row_id for row_id, _by in found]).update(**take)
    else:
        taken = _due(shop_id, now, kind, only).filter(id__in=Subquery(chosen.values("id")[:limit]))
        found = list(taken.values_list("id", "claimed_by"))
        if found:
            taken.update(**take)
    if not found:
        return []  # most rounds: nothing is due, and this was the only statement
    recovered = {row_id for row_id, claimed_by in found if claimed_by}
    rows = list(SyncState.objects.filter(claimed_by=token))
    for row in rows:
        # Still carrying a token: the last worker's attempt never ended (it died or its lease ran out),
        # and what it sent may have reached Mailchimp without the row learning it.
        row.recovered = row.id in recovered
    return rows


def _due(shop_id, now, kind, only):
    rows = due(shop_id, now, kind)
    return rows if only is None else rows.filter(only)


def lease_new_rows(shop_id, kind, object_ids, token, lease_seconds):
    """Create rows for never-seen objects already leased to ``token`` (a bulk sync's batch); returns
    how many are ours. A row a receiver created at the same moment is not: the incremental path sends it."""
    now = timezone.now()
    SyncState.objects.bulk_create([
        SyncState(shop_id=shop_id, kind=kind, object_id=pk, status=SyncStatus.SENDING, next_attempt_at=now,
                  lease_until=now + timedelta(seconds=lease_seconds), claimed_by=token, claimed_version=1,
                  claimed_at=now, first_claimed_at=now)
        for pk in object_ids
    ], ignore_conflicts=True)
    return SyncState.objects.filter(shop_id=shop_id, claimed_by=token).count()


def hand_over(rows, token, lease_seconds):
    """Lease claimed rows to a batch's ``token`` (a burst); returns the ids it holds. A row whose lease
    another worker took meanwhile stays with that worker; in a transaction, a row a shop's transaction
    holds at this moment stays with the claim (see :func:`_update_unlocked`). The claim's version stays: a
    change recorded from now on sends the row again after the batch."""
    _update_unlocked(_claimed(rows), claimed_by=token, lease_until=timezone.now() + timedelta(seconds=lease_seconds))
    return set(held_by(token).values_list("id", flat=True))


def _claimed(rows):
    """The rows, where they are still held by the claim they were read with."""
    return SyncState.objects.filter(id__in=[row.id for row in rows], claimed_by__in={row.claimed_by for row in rows})


def _queue_unlocked(rows, **changes):
    """:func:`_update_unlocked` for changes that queue rows (due, resets, a consent request): inside a transaction,
    a row it passes over is queued once the transaction commits (review pg58 F4: a withdrawal a batch learnt never
    reached the row of another shop a transaction held at that moment, one that then rolled back)."""
    return _update_unlocked(rows, skipped_after_commit=True, **changes)


def _update_unlocked(rows, skipped_after_commit=False, **changes):
    """``rows.update(**changes)`` that cannot deadlock with a shop's transaction; returns the rows updated.

    On PostgreSQL a multi-row UPDATE locks rows one after the other, and waits for a row a shop's
    transaction holds (a contact saved meanwhile) while it holds the others; if that transaction then
    wants one of those, the two deadlock and PostgreSQL aborts one, possibly the shop's request. So the
    rows are locked with SKIP LOCKED, and those skipped are updated one per statement, each waiting while
    holding nothing else. Inside a transaction (whose earlier rows stay locked) the skipped rows are left as
    they are (a lease, a hand-over: they stay with the claim), or, ``skipped_after_commit``, updated so once it
    commits (not counted)."""
    if not connection.features.has_select_for_update_skip_locked:
        return rows.update(**changes)
    in_transaction = not transaction.get_autocommit()
    candidates = set(rows.values_list("id", flat=True)) if skipped_after_commit or not in_transaction else set()
    with transaction.atomic():
        locked = list(rows.select_for_update(skip_locked=True).values_list("id", flat=True))
        updated = sum(rows.filter(id__in=locked[start:start + IDS_PER_STATEMENT]).update(**changes)
                      for start in range(0, len(locked), IDS_PER_STATEMENT))
    skipped = sorted(candidates - set(locked))
    if in_transaction and skipped_after_commit:
        transaction.on_commit(functools.partial(_update_each, rows, skipped, changes))
    elif not in_transaction:
        updated += _update_each(rows, skipped, changes)
    return updated


def _update_each(rows, row_ids, changes):
    """``changes`` on each of ``rows`` with these ids, one statement each (waiting for its lock, holding none)."""
    return sum(rows.filter(id=row_id).update(**changes) for row_id in row_ids)


def held_by(token):
    return SyncState.objects.filter(claimed_by=token)


def renew_lease(rows, seconds):
    """Extend the lease of claimed rows no other worker took meanwhile; returns the ids still held.

    A worker that sends for long (a slow Mailchimp, a big claim) calls it before its lease could run
    out: a row another worker claimed after the lease ended is not sent again with older data.
    """
    held = _claimed(rows)
    _update_unlocked(held, lease_until=timezone.now() + timedelta(seconds=seconds))
    return set(held.values_list("id", flat=True))


def extend_lease(token, seconds, batch_id=""):
    return _update_unlocked(held_by(token), batch_id=batch_id,
                            lease_until=timezone.now() + timedelta(seconds=seconds))


#: What a send notes on its row before its requests go out (:func:`note_before_sending`).
NOTED_BEFORE_SENDING = ("move_sent_to", "consent_unanswered", "fields_written")


def note_before_sending(row, facts):
    """Record on a claimed row what its send is about to do, before any request goes out: should the worker die or
    an answer be lost, the retry knows where to look (a move's address, ``SyncState.move_sent_to``) and what the lost
    attempt may have written (a consent, ``SyncState.consent_unanswered``). Cleared when the row learns it (see
    :func:`_notes_learnt`). One UPDATE, only when a send notes something new."""
    unknown = set(facts) - set(NOTED_BEFORE_SENDING)
    if unknown:
        raise ValueError("Not noted before sending: %s" % ", ".join(sorted(unknown)))
    changed = {name: value for name, value in facts.items() if getattr(row, name) != value}
    if changed and _update_held(row, changed):
        for name, value in changed.items():
            setattr(row, name, value)


def note_sending_together(token, noted):
    """:func:`note_before_sending` for many rows a batch's ``token`` holds, before the batch goes out: ``noted`` is
    ``[(row, facts)]``. One UPDATE per fact and NOTES_PER_STATEMENT rows (a first send's address differs per row);
    returns how many row facts were noted."""
    unknown = {name for _row, facts in noted for name in facts} - set(NOTED_BEFORE_SENDING)
    if unknown:
        raise ValueError("Not noted before sending: %s" % ", ".join(sorted(unknown)))
    count = 0
    for name in NOTED_BEFORE_SENDING:
        values = {row.id: facts[name] for row, facts in noted if name in facts and getattr(row, name) != facts[name]}
        ids = sorted(values)
        for start in range(0, len(ids), NOTES_PER_STATEMENT):
            chunk = ids[start:start + NOTES_PER_STATEMENT]
            field = SyncState._meta.get_field(name)
            count += held_by(token).filter(id__in=chunk).update(**{name: Case(
                *[When(id=row_id, then=Value(values[row_id], output_field=field)) for row_id in chunk],
                output_field=field)})
    for row, facts in noted:
        for name, value in facts.items():
            setattr(row, name, value)
    return count


def release(rows, delay=None):
    """Give claimed rows back untried, to be tried again after ``delay`` seconds. A recovered row (a lost
    attempt's, see :func:`claim`) stays recovered: only its lease ends. Another forgets what its send noted (a
    send Mailchimp refused at once, a 429: nothing of it went out unanswered; review aud43 F3)."""
    changes = dict(status=SyncStatus.PENDING, lease_until=None, claimed_by="", batch_id="", move_sent_to="",
                   consent_unanswered="")
    if delay:
        changes["next_attempt_at"] = timezone.now() + timedelta(seconds=delay)
    recovered = [row for row in rows if getattr(row, "recovered", False)]
    _update_unlocked(_claimed([row for row in rows if not getattr(row, "recovered", False)]), **changes)
    if recovered:
        lapsed = dict(lease_until=timezone.now())
        if delay:
            lapsed["next_attempt_at"] = changes["next_attempt_at"]
        _update_unlocked(_claimed(recovered), **lapsed)


def lapse_token(token):
    """The rows of a batch whose fate is unknown (Mailchimp lost it; a disconnect stopped it after Mailchimp
    took it) are due again now, as a dead worker's are: the token stays, so the next claim takes them as
    recovered (the batch may have written their members, with the consent of then)."""
    return _update_unlocked(held_by(token), lease_until=timezone.now(), next_attempt_at=timezone.now())


# Closing (workers) -----------------------------------------------------------------------------------


def close(row, outcome):
    """Close a claimed row with its delivery's Outcome. Returns the status it was closed with, ROW_DELETED
    for a row removed, or None when the row is no longer this claim's.

    The status becomes final (a removed row deleted) only if no newer change was recorded while it was out;
    otherwise the row returns to pending and the newer state is sent next.
    """
    if "members_left" not in outcome.facts:
        return _close_row(row, outcome)
    with transaction.atomic():  # no other worker claims the row between the close and its completion
        status = _close_row(row, outcome)
        if status not in (None, ROW_DELETED):
            _moved_meanwhile(row, outcome.facts)
    return status


def _close_row(row, outcome):
    result = outcome.result
    if result == Result.REMOVED:
        if SyncState.objects.filter(id=row.id, claimed_by=row.claimed_by, version=row.claimed_version).delete()[0]:
            return ROW_DELETED
        return _close_changed(row, {})
    if result in SENT:
        # A withdrawal read from Mailchimp's answer holds only if the row closes: a row changed meanwhile keeps
        # the consent it had, so that its next send is not taken for a consent given again.
        kept = ("opt_in",) if outcome.withdraw_consent else ()
        return _close(row, SyncStatus.SYNCED, kept_if_pending=kept, **_synced_fields(row, outcome))
    error_text = outcome.reason[:MAX_ERROR_LENGTH]
    # A lost attempt's write (or this one's) whose outcome no answer told: the close keeps a token and the notes, so
    # that the row's next send, whenever it comes, is that attempt's retry (review aud43 F4, aud44 F1).
    unknown = (getattr(row, "recovered", False) or outcome.in_doubt) and not _member_learnt(row, outcome.facts)
    token_kept = dict(claimed_by=uuid.uuid4().hex) if unknown else None
    if result == Result.SKIPPED:
        fields = dict(_fact_fields(row, outcome.facts),
                      **(token_kept or _notes_learnt(row, outcome.facts, answered=True)))
        return _close(row, SyncStatus.SKIPPED, last_error=error_text, last_error_data=None, **fields)
    attempts = row.attempts if outcome.waits else row.attempts + 1
    # An attempt that failed after writing part of what it sends (a member, then not its customer) records
    # what Mailchimp holds now (``outcome.facts``), as a synced close would.
    written = dict(_fact_fields(row, outcome.facts), **_notes_learnt(row, outcome.facts))
    ended = dict(written, **_notes_learnt(row, outcome.facts, answered=True))  # closes that give the token up
    if result == Result.RETRY and (outcome.waits or outcome.persists or not gives_up(attempts, outcome.max_attempts)):
        retry_at = next_attempt(timezone.now(), max(1, attempts))
        if unknown:
            # A lost attempt's row whose retry wrote no member, or an attempt whose write's answer never came: what
            # was written is unknown, so the row is recovered at its next claim (it keeps a token, one no worker or
            # batch holds: a batch's next phase does not take it; its lease ends now: it is due at ``retry_at``, or
            # at once when a change is recorded).
            _update_held(row, dict(status=SyncStatus.PENDING, lease_until=timezone.now(), batch_id="",
                                   attempts=attempts, next_attempt_at=retry_at, last_error=error_text,
                                   last_error_data=outcome.error, **token_kept, **written))
            return SyncStatus.PENDING
        _update_held(row, dict(
            status=SyncStatus.PENDING, lease_until=None, claimed_by="", batch_id="", attempts=attempts,
            next_attempt_at=retry_at, last_error=error_text, last_error_data=outcome.error, **ended))
        return SyncStatus.PENDING
    if unknown:
        # Given up (or refused) with a write's outcome unknown: a resend or the next change is that attempt's retry.
        return _close(row, SyncStatus.FAILED, attempts=attempts, last_error=error_text, last_error_data=outcome.error,
                      refused_fingerprint=outcome.refused_fingerprint, **token_kept, **written)
    return _close(row, SyncStatus.FAILED, attempts=attempts, last_error=error_text, last_error_data=outcome.error,
                  refused_fingerprint=outcome.refused_fingerprint, **ended)


def _synced_fields(row, outcome):
    fields = dict(attempts=0, last_error="", last_error_data=None, refused_fingerprint="")
    if outcome.result == Result.SYNCED:
        fields["last_synced_at"] = timezone.now()
    fields.update(_fact_fields(row, outcome.facts))
    fields.update(_notes_learnt(row, outcome.facts, sent=True))
    return fields


def _member_learnt(row, facts):
    """Whether a send's ``facts`` tell what became of the row's member: its status, and, for a send that set out to
    write it at a noted address (a move, a first send: ``move_sent_to``), its address too (review aud44 F2: a move
    off a shared address learnt the status of the member it left, not of the one it wrote)."""
    return "member_status" in facts and ("email" in facts or not getattr(row, "move_sent_to", ""))


def _notes_learnt(row, facts, sent=False, answered=False):
    """What :func:`note_before_sending` noted, cleared once the row learns it. ``move_sent_to``: where the member is,
    from a send that went through (``sent``) or a failed one that wrote the member (its address in ``facts``).
    ``consent_unanswered``: what became of the member, from a send that went through, a failed one that wrote its
    status, or any close that ends the row's lost attempts (``answered``: its token goes, the row is recovered no
    more)."""
    cleared = {}
    if getattr(row, "move_sent_to", "") and (sent or "email" in facts):
        cleared["move_sent_to"] = ""
    if getattr(row, "consent_unanswered", "") and (sent or answered or _member_learnt(row, facts)):
        cleared["consent_unanswered"] = ""
    return cleared


def close_synced_together(closes):
    """Close many rows synced with nothing more to do (no consent withdrawn): ``[(row, outcome)]`` → the
    ids of the rows closed as synced. The others (changed while out, no longer this claim's) are left for
    :func:`close`, which knows what they become.

    On PostgreSQL one statement closes up to ROWS_PER_CLOSE rows: one UPDATE each was a third of a
    10,000-contact burst. Elsewhere nothing is closed here (SQLite runs a row's UPDATE in-process, in
    microseconds)."""
    if connection.vendor != "postgresql":
        return set()
    layouts = defaultdict(list)
    for row, outcome in closes:
        if outcome.result != Result.SYNCED or outcome.withdraw_consent:
            continue
        values = dict(status=SyncStatus.SYNCED, lease_until=None, claimed_by="", batch_id="",
                      **_synced_fields(row, outcome))
        layouts[tuple((name, value.guard if isinstance(value, _IfUnchanged) else None)
                      for name, value in values.items())].append((row, values))
    closed = set()
    for layout, rows in layouts.items():
        for start in range(0, len(rows), ROWS_PER_CLOSE):
            closed.update(_update_held_together(layout, rows[start:start + ROWS_PER_CLOSE]))
    for row, outcome in closes:
        if row.id in closed:
            _moved_meanwhile(row, outcome.facts)
    return closed


def _update_held_together(layout, rows):
    """:func:`_update_held` (with the version check) for many rows alike in ``layout`` in one PostgreSQL
    statement; returns the ids updated. It never waits for a row: one a shop's transaction holds (a contact
    saved meanwhile) is skipped and closed alone by :func:`close`. Waiting for it while holding the others
    could deadlock with that transaction, which may lock rows in any order, and the loser could be the
    shop's request."""
    quote = connection.ops.quote_name
    table = quote(SyncState._meta.db_table)
    id_type = SyncState._meta.pk.rel_db_type(connection)
    value_types = [id_type, _db_type("claimed_by"), _db_type("version")]
    assignments = []
    for name, guard in layout:
        column = quote(SyncState._meta.get_field(name).column)
        value = "v.c%d" % len(value_types)
        if guard:
            guarded = quote(SyncState._meta.get_field(guard).column)
            assignments.append("%s = CASE WHEN t.%s IS NOT DISTINCT FROM %s THEN v.c%d ELSE t.%s END" % (
                column, guarded, value, len(value_types) + 1, column))
            value_types += [_db_type(guard), _db_type(name)]
        else:
            assignments.append("%s = %s" % (column, value))
            value_types.append(_db_type(name))
    params = []
    for row, values in rows:
        params += [row.id, row.claimed_by, row.claimed_version]
        for name, guard in layout:
            value, field = values[name], SyncState._meta.get_field(name)
            if guard:
                params += [SyncState._meta.get_field(guard).get_db_prep_save(value.claimed, connection),
                           field.get_db_prep_save(value.value, connection)]
            else:
                params.append(field.get_db_prep_save(value, connection))
    one_row = "(%s)" % ", ".join("CAST(%%s AS %s)" % db_type for db_type in value_types)
    ids = [row.id for row, _values in rows]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE %s AS t SET %s FROM (VALUES %s) AS v(%s) "
            "WHERE t.id = v.c0 AND t.claimed_by = v.c1 AND t.version = v.c2 "
            "AND t.id IN (SELECT id FROM %s WHERE id IN (%s) FOR UPDATE SKIP LOCKED) RETURNING t.id" % (
                table, ", ".join(assignments), ", ".join([one_row] * len(rows)),
                ", ".join("c%d" % index for index in range(len(value_types))), table,
                ", ".join(["%s"] * len(ids))),
            params + ids)
        return {updated for (updated,) in cursor.fetchall()}


def _moved_meanwhile(row, facts):
    """A close whose guard kept the row's ``members_left`` as an ``upemail`` changed it while the send was out
    (:func:`follow_members_left`, which changes addresses only), completed with the send's own list (built from the
    row's list at claim time): its entries follow the moves. A list emptied meanwhile (an audience forgotten) keeps
    only what the send added. Compare-and-set on the list; one query when nothing moved, none for a send that left
    no member."""
    if "members_left" not in facts:
        return
    claimed, written = row.members_left or [], facts["members_left"]
    for _attempt in range(3):
        held = SyncState.objects.filter(id=row.id).only("members_left").first()
        current = held.members_left or [] if held else written
        if current == written:
            return  # the close wrote the send's list
        if len(current) == len(claimed):
            moved = {address_key(then.get("email", "")): now.get("email", "")
                     for then, now in zip(claimed, current) if then.get("email") != now.get("email")}
            merged = [dict(entry, email=moved.get(address_key(entry.get("email", "")), entry.get("email", "")))
                      for entry in written]
        else:
            merged = [entry for entry in written if entry not in claimed]
        if merged == current or SyncState.objects.filter(id=row.id, members_left=current).update(
                members_left=merged):
            return


def _db_type(name):
    return SyncState._meta.get_field(name).db_type(connection)


class _IfUnchanged:
    """A fact written only where its field (or the field ``guard``) still holds what it held when the row was
    claimed (``claimed``)."""

    __slots__ = ("value", "claimed", "guard")

    def __init__(self, value, claimed, guard=None):
        self.value = value
        self.claimed = claimed
        self.guard = guard


def _fact_fields(row, facts):
    """Fields of ``facts`` to write; a Mailchimp-side one only if it still holds its value of claim time; whose the
    subscription is only if the member's status does (``GUARDED_BY``)."""
    unknown = set(facts) - set(FACT_FIELDS)
    if unknown:
        raise ValueError("Not a sync-state fact: %s" % ", ".join(sorted(unknown)))
    fields = {}
    for name, value in facts.items():
        if name in GUARDED_FIELDS:
            fields[name] = _IfUnchanged(value, getattr(row, name), guard=name)
        elif name in GUARDED_BY:
            fields[name] = _IfUnchanged(value, getattr(row, GUARDED_BY[name]), guard=GUARDED_BY[name])
        else:
            fields[name] = value
    return fields


def _close(row, status, kept_if_pending=(), **fields):
    """Returns the status the row really got: pending when a change was recorded while it was out (what
    follows a close, such as withdrawing consent, must not act on a row that is to be sent again); the
    fields named in ``kept_if_pending`` are then left as they were."""
    released = dict(dict(lease_until=None, claimed_by="", batch_id=""), **fields)
    if _update_held(row, dict(released, status=status), version=row.claimed_version):
        return status
    for name in kept_if_pending:
        fields.pop(name, None)
    return _close_changed(row, fields)


def _close_changed(row, fields):
    """Give back as pending a row changed while it was out, with ``fields``; returns PENDING, or None when the row
    is no longer ours (a lapsed lease another worker took: that worker closes it)."""
    if _update_held(row, dict(dict(lease_until=None, claimed_by="", batch_id="", status=SyncStatus.PENDING), **fields)):
        return SyncStatus.PENDING
    return None


def _update_held(row, values, version=None):
    """One UPDATE of a row this claim holds (and, with ``version``, that nothing changed since); returns
    the number of rows updated. Written as SQL: Django compiling the guarded facts' expressions cost a
    millisecond per close, most of the time of a 10,000-contact batch."""
    assignments, params = [], []
    for name, value in values.items():
        field = SyncState._meta.get_field(name)
        column = connection.ops.quote_name(field.column)
        if not isinstance(value, _IfUnchanged):
            assignments.append("%s = %%s" % column)
            params.append(field.get_db_prep_save(value, connection))
            continue
        guard = SyncState._meta.get_field(value.guard)
        guarded = connection.ops.quote_name(guard.column)
        if value.claimed is None:
            assignments.append("%s = CASE WHEN %s IS NULL THEN %%s ELSE %s END" % (column, guarded, column))
            params.append(field.get_db_prep_save(value.value, connection))
        else:
            assignments.append("%s = CASE WHEN %s = %%s THEN %%s ELSE %s END" % (column, guarded, column))
            params += [guard.get_db_prep_save(value.claimed, connection),
                       field.get_db_prep_save(value.value, connection)]
    conditions = ["%s = %%s" % connection.ops.quote_name(name) for name in ("id", "claimed_by")]
    params += [row.id, row.claimed_by]
    if version is not None:
        conditions.append("%s = %%s" % connection.ops.quote_name("version"))
        params.append(version)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE %s SET %s WHERE %s" % (connection.ops.quote_name(SyncState._meta.db_table),
                                                     ", ".join(assignments), " AND ".join(conditions)), params)
        return cursor.rowcount
