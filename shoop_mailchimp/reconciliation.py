"""Reconciliation: what Mailchimp knows about the audience's members, read back and applied in the shop.

Webhooks get lost (Mailchimp retries a delivery for about 75 minutes, then drops it) and marketers
edit members by hand. A reconciliation reads the members Mailchimp changed since the last one (or,
``full``, every member), compares each with the shop's sync state and applies what the shop missed
through the webhook's own handlers (:func:`shoop_mailchimp.member_events.handle_event`), so the same rules
hold: an event older than the shop's newest fact is ignored, only this shop's contacts are touched, an
unsubscribe withdraws the shop's marketing permission, and nothing ever gives consent.

Per member, against the sync state of the contact it belongs to (by Mailchimp's ``unique_email_id``,
which survives an e-mail change, else by the e-mail last sent):

- a contact with a change of its own on the way (pending or sending) is left alone: its send settles it,
  and the next reconciliation sees the result;
- another address than the one last sent → ``upemail``; status ``unsubscribed``, ``cleaned`` or
  ``archived`` where the shop knew another → ``unsubscribe``, ``cleaned``, ``unsubscribe`` (delete);
  ``subscribed`` where the shop knew another (a confirmed opt-in, or an admin's change) → ``subscribe``,
  which records the status and gives no consent;
- any status but ``unsubscribed`` or ``cleaned`` where the shop knew the member archived (a marketer unarchived
  it; Mailchimp fires no webhook for that) → ``unarchive``, which records the status and sends the contact again
  (the shop sent an archived member nothing);
- a member no contact of the shop has: counted, and its address kept for the export.

A full pass also finds contacts the shop sent whose member is gone from the audience (deleted for
good in Mailchimp, or a send that never arrived): they are queued again as they are, which re-adds them
as transactional and never subscribed (Mailchimp refuses addresses deleted for good; the failed list
then says so).
"""
import copy
from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from shoop_mailchimp.journal import Journal, log_event
from shoop_mailchimp.mailchimp import members as statuses
from shoop_mailchimp.mailchimp import resources
from shoop_mailchimp.member_events import handle_event
from shoop_mailchimp.models import LogKind, MailchimpConfiguration, SyncState, SyncStatus
from shoop_mailchimp.shops import address_keys, shop_contacts_with_keys
from shoop_mailchimp.sync import state

#: Each incremental pass reads this much before the last one ended: ``last_changed`` has whole seconds,
#: and a member changed while the last pass was paging is read again (applying a fact twice is harmless).
OVERLAP = timedelta(minutes=5)
#: Addresses of members the shop does not know kept for the export.
UNKNOWN_EXPORT_LIMIT = 50000
MEMBER_FIELDS = ",".join(["members.%s" % name for name in (
    "email_address", "unique_email_id", "status", "last_changed", "unsubscribe_reason")])
#: Report categories, in the order the admin shows them.
CATEGORIES = ("unsubscribed", "cleaned", "archived", "unarchived", "subscribed", "email_changed", "stale",
              "left_for_later", "missing_requeued")
#: A member's status → the webhook event that tells the shop of it.
STATUS_EVENTS = {
    statuses.UNSUBSCRIBED: ("unsubscribe", "unsub", "unsubscribed"),
    statuses.CLEANED: ("cleaned", "", "cleaned"),
    statuses.ARCHIVED: ("unsubscribe", "delete", "archived"),
    statuses.SUBSCRIBED: ("subscribe", "", "subscribed"),
}
#: Statuses of a member a marketer unarchived that only record it (an unsubscribe or a bounce goes its own way).
UNARCHIVED_TO = (statuses.SUBSCRIBED, statuses.PENDING, statuses.TRANSACTIONAL)
IN_FLIGHT = (SyncStatus.PENDING, SyncStatus.SENDING)
#: Rows whose last change Mailchimp has got: a Mailchimp status differing from them is drift.
SETTLED = (SyncStatus.SYNCED, SyncStatus.SKIPPED)


def new_report(full, since):
    return {"full": full, "since": since.isoformat() if since else None, "read": 0, "total": None,
            "found": dict.fromkeys(CATEGORIES, 0), "unknown_count": 0, "unknown_emails": []}


def reconcile(configuration, session, full=False, progress=None):
    """Read the audience's changed (or, ``full``, all) members and apply what the shop missed.

    Returns the report (see :func:`new_report`); ``progress(report)`` is called after each page. The
    configuration's ``reconciled_until`` moves to the start of this pass once it has read everything, or
    only as far as the oldest fact left for a row that had a change on its way: the next pass reads it
    again.
    """
    started = timezone.now()
    since = None if full or configuration.reconciled_until is None else configuration.reconciled_until - OVERLAP
    report = new_report(full, since)
    seen_emails, seen_ids, deferred = set(), set(), []
    pages = iter(resources.member_pages(session, configuration.list_id, MEMBER_FIELDS, since))
    while True:
        asked_at = timezone.now()  # a row sent after this may be newer than the page says
        try:
            page, total = next(pages)
        except StopIteration:
            break
        report["total"] = total
        with transaction.atomic():
            _apply_page(configuration, page, report, deferred, asked_at)
        report["read"] += len(page)
        if full:
            seen_emails.update((member.get("email_address") or "").lower() for member in page)
            seen_ids.update(member.get("unique_email_id") for member in page)
        if progress:
            progress(report)
    if full:
        report["found"]["missing_requeued"] = _requeue_missing(configuration, seen_emails, seen_ids, started)
    until = min([started] + deferred)
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(reconciled_until=until)
    configuration.reconciled_until = until
    log_event(configuration.shop_id, "reconcile", summary(report),
              kind=LogKind.WARNING if any(report["found"].values()) else LogKind.INFO,
              extra={key: report[key] for key in ("full", "since", "read", "total", "found", "unknown_count")})
    return report


def read_audience_left(configuration, session, list_id):
    """Before the shop moves to another audience (``list_id`` is the one it leaves): what its members there tell
    that the shop missed since its last reconciliation (an unsubscribe clicked in a campaign while the shop was
    disconnected, its webhook deleted; a bounce; a webhook lost) is applied as a reconciliation would, and also to
    rows with a change on its way: their send goes to the new audience, which cannot settle it. An unsubscribe
    withdraws the shop's consent before the shop forgets that audience's facts. Returns the report."""
    leaving = copy.copy(configuration)
    leaving.list_id = list_id
    since = None if configuration.reconciled_until is None else configuration.reconciled_until - OVERLAP
    report = new_report(since is None, since)
    for page, total in resources.member_pages(session, list_id, MEMBER_FIELDS, since):
        report["total"] = total
        with transaction.atomic():
            _apply_page(leaving, page, report, [], timezone.now(), leaving_audience=True)
        report["read"] += len(page)
    log_event(configuration.shop_id, "reconcile", "Before leaving the audience %s: %s" % (list_id, summary(report)),
              kind=LogKind.WARNING if any(report["found"].values()) else LogKind.INFO,
              extra={key: report[key] for key in ("full", "since", "read", "total", "found")})
    return report


def summary(report):
    found = ", ".join("%s %d" % (name.replace("_", " "), count) for name, count in report["found"].items() if count)
    return "%s reconciliation: %d members read, %s; %d members the shop does not know" % (
        "Full" if report["full"] else "Incremental", report["read"], found or "no drift", report["unknown_count"])


def _last_changed(member):
    try:
        return resources.parse_time(member.get("last_changed"))
    except ValueError:
        return timezone.now()


def _apply_page(configuration, page, report, deferred, asked_at, leaving_audience=False):
    shop_id = configuration.shop_id
    emails = {(member.get("email_address") or "").lower() for member in page}
    ids = {member.get("unique_email_id") for member in page if member.get("unique_email_id")}
    rows = list(SyncState.objects.contacts().filter(shop_id=shop_id, erase=False).annotate(
        email_lower=Lower("email")).filter(Q(unique_email_id__in=ids) | Q(email_lower__in=emails)))
    # Every row of a member (contacts sharing an address share it): each learns what the member says (review aud56
    # F5: only the last row of an id did, and another's send then ended its owner's new signup). By address only
    # the rows sent before Mailchimp's id was kept: a row that knows its member's id is not paired with another
    # member that took its old address.
    by_id, by_email = defaultdict(list), defaultdict(list)
    for row in rows:
        if row.unique_email_id:
            by_id[row.unique_email_id].append(row)
        else:
            by_email[row.email_lower].append(row)
    # The shop's contacts of these members in any spelling of the mailbox (their address keys).
    contact_keys = set(shop_contacts_with_keys(shop_id, address_keys(emails)).values_list(
        "mailchimp_address__key", flat=True))
    member_ids = {}
    for member in page:
        email = (member.get("email_address") or "").lower()
        member_rows = by_id.get(member.get("unique_email_id")) or by_email.get(email)
        if not member_rows:
            if statuses.address_key(email) not in contact_keys:
                report["unknown_count"] += 1
                if len(report["unknown_emails"]) < UNKNOWN_EXPORT_LIMIT:
                    report["unknown_emails"].append(member.get("email_address") or "")
            continue
        for row in member_rows:
            if not row.unique_email_id and member.get("unique_email_id"):
                member_ids[row.pk] = member["unique_email_id"]
            _apply_member(configuration, row, member, report, deferred, asked_at, leaving_audience)
    if not leaving_audience:
        state.remember_member_ids(member_ids)


def _apply_member(configuration, row, member, report, deferred, asked_at, leaving_audience=False):
    """Apply what the member says that the row does not know. ``deferred`` collects the change times of
    facts left for the next pass (the row had a change of its own on the way). ``asked_at``: when the page was
    asked for; a row sent since may have moved the member after Mailchimp read it (whose ``last_changed`` has whole
    seconds, so it cannot tell), and its address is not taken from the page. ``leaving_audience``: the shop moves
    to another audience (:func:`read_audience_left`), where a change on its way will not settle this one."""
    email, status = member.get("email_address") or "", member.get("status") or ""
    if not (_email_changed(row, email) or _status_changed(row, status)):
        return
    # The page's rows were read at its start: what the shop did since (a consent given, a send) counts.
    row.refresh_from_db()
    fired_at = _last_changed(member)
    data = {"list_id": configuration.list_id, "email": email}
    if _email_changed(row, email) and row.last_synced_at is not None and row.last_synced_at >= asked_at:
        # Sent since the page was asked for (an address change the send made, say): the page may predate it.
        report["found"]["left_for_later"] += 1
        deferred.append(min(fired_at, asked_at))
        return
    if _email_changed(row, email):
        # A fact of Mailchimp's side alone, applied even while the shop sends (as the webhook does): the
        # send then addresses the member where it now is.
        event = {"type": "upemail", "fired_at": fired_at, "merges": {},
                 "data": dict(data, old_email=row.email, new_email=email, new_id=member.get("unique_email_id") or "")}
        _count(report, handle_event(configuration, event, source="reconcile", states=[row]), "email_changed")
        row.refresh_from_db()
    if not _status_changed(row, status):
        return
    if row.status not in SETTLED and not leaving_audience:
        # The shop holds a change Mailchimp has not got (on its way, or failed): its consent may be newer
        # than this status. Its send (or Resend) settles it; one on its way is read again next pass.
        report["found"]["left_for_later"] += 1
        if row.status in IN_FLIGHT:
            deferred.append(fired_at)
        return
    if row.member_status == statuses.ARCHIVED and status in UNARCHIVED_TO:
        event = {"type": "unarchive", "fired_at": fired_at, "merges": {}, "data": dict(data, status=status)}
        _count(report, handle_event(configuration, event, source="reconcile", states=[row]), "unarchived")
        return
    event_type, action, category = STATUS_EVENTS[status]
    details = dict(data, action=action) if action else data
    if status == statuses.UNSUBSCRIBED:
        details["reason"] = member.get("unsubscribe_reason") or ""
    event = {"type": event_type, "fired_at": fired_at, "merges": {}, "data": details}
    _count(report, handle_event(configuration, event, source="reconcile", states=[row]), category)


def _email_changed(row, email):
    return bool(row.email) and email.lower() != row.email.lower()


def _status_changed(row, status):
    known = status in STATUS_EVENTS or (row.member_status == statuses.ARCHIVED and status in UNARCHIVED_TO)
    return known and bool(row.member_status) and status != row.member_status


def _count(report, result, category):
    if result.action == "reconcile.stale":
        report["found"]["stale"] += 1
    elif result.details.get("matched", 1):
        report["found"][category] += 1


def _requeue_missing(configuration, seen_emails, seen_ids, started):
    """Contacts last sent before this pass began whose member the whole audience did not hold."""
    sent = SyncState.objects.contacts().filter(
        shop_id=configuration.shop_id, erase=False, status=SyncStatus.SYNCED, last_synced_at__lt=started
    ).exclude(member_status__in=("", statuses.ERASED)).values_list("pk", "email", "unique_email_id", "object_id")
    missing = [(pk, email, contact_id) for pk, email, member_id, contact_id in sent
               if email.lower() not in seen_emails and member_id not in seen_ids]
    if not missing:
        return 0
    journal = Journal(configuration.shop_id)
    for _pk, email, contact_id in missing:
        journal.add("reconcile.missing", "%s is no longer in the audience: sent again as a transactional member "
                    "(never subscribed)" % email, kind=LogKind.WARNING, contact_id=contact_id)
    # Outside a transaction: a requeue of many rows never waits for one while holding others (state._requeue).
    count = state.requeue_missing([pk for pk, _email, _contact in missing])
    journal.flush()
    return count
