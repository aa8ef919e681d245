"""Bulk sync of a shop's existing contacts (and orders) through Mailchimp batch operations.

The incremental path sends one contact per request; a shop connecting years of customers would
wait hours. Here each chunk of ``BATCH_SIZE`` objects becomes one ``POST /batches``:

1. **record** — sync-state rows are created already leased to a :class:`MailchimpBatch`
   (status ``sending``, ``claimed_by`` = the batch's token, lease ``BATCH_LEASE_SECONDS``), so the
   incremental worker's claim skips them. A change recorded meanwhile bumps the row's version:
   when the batch closes the row it goes back to pending and the newer state follows.
2. **submit** — operations are built by the incremental path's payload code
   (:class:`~shoop_mailchimp.sync.contacts.ContactPlan`), each ``operation_id`` naming the row and
   step (``c:<row id>:member``); Mailchimp's batch id is saved.
3. **check** — submitted batches are polled (one listing for all of them); a finished one's results
   close its rows: success → synced, a 4xx → failed with Mailchimp's detail, 5xx/429 → retried by
   the incremental worker after a backoff.

Every step is resumable: :func:`check_batches` submits batches a crash left unsubmitted and polls
the others, so a restart never sends a row twice (except when the crash fell between Mailchimp
accepting a batch and its id being saved: that chunk is submitted again, and the PUTs are
idempotent).
"""
import logging
import time
import uuid
from collections import Counter, defaultdict

from django.db import transaction
from django.utils import timezone
from shuup.core.models import Order

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.journal import Journal
from shoop_mailchimp.mailchimp import batches
from shoop_mailchimp.mailchimp.errors import MailchimpError, MailchimpNotFound
from shoop_mailchimp.mailchimp.limits import throttle_shop
from shoop_mailchimp.mailchimp.resources import order_path, product_path
from shoop_mailchimp.mailchimp.transport import Operation, open_session
from shoop_mailchimp.models import BatchStatus, LogKind, MailchimpBatch, MailchimpConfiguration, SyncKind, SyncState
from shoop_mailchimp.shops import shop_contacts
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.drainer import pause
from shoop_mailchimp.sync.kinds import contact, order
from shoop_mailchimp.sync.outcome import SHOP_STOPS, Outcome, Result, classify

logger = logging.getLogger(__name__)


class BulkSyncError(Exception):
    """The bulk sync cannot start; the message is meant for the shop owner."""


def _configuration(shop_id):
    configuration = MailchimpConfiguration.objects.filter(shop_id=shop_id).first()
    if configuration is None or not configuration.is_active:
        raise BulkSyncError("Mailchimp is not active for this shop: configure and initialize it first.")
    return configuration


# Recording ------------------------------------------------------------------------------------------


def unqueued_ids(shop_id, kind):
    """Objects of the shop the sync has never seen (no sync-state row)."""
    known = SyncState.objects.filter(shop_id=shop_id, kind=kind).values("object_id")
    objects = shop_contacts(shop_id) if kind == SyncKind.CONTACT else Order.objects.filter(shop_id=shop_id)
    return objects.exclude(pk__in=known).values_list("pk", flat=True)


def record_existing(shop_id, kind=SyncKind.CONTACT, progress=None):
    """Lease a new row for every never-seen object to a batch, ``BATCH_SIZE`` per batch; returns the batches."""
    ids = list(unqueued_ids(shop_id, kind).order_by("pk"))
    size = max(1, int(get_setting("BATCH_SIZE")))
    created = []
    for start in range(0, len(ids), size):
        batch = _record_chunk(shop_id, kind, ids[start:start + size])
        if batch is not None:
            created.append(batch)
            if progress:
                progress("recorded", batch)
    return created


def _record_chunk(shop_id, kind, object_ids):
    token = uuid.uuid4().hex
    with transaction.atomic():
        count = state.lease_new_rows(shop_id, kind, object_ids, token, get_setting("BATCH_LEASE_SECONDS"))
        if not count:
            return None
        return MailchimpBatch.objects.create(shop_id=shop_id, kind=kind, token=token, rows=count)


# Building operations ------------------------------------------------------------------------------


def _close_unplanned(row, outcome, journal, report):
    state.close(row, outcome)
    report["%s %s" % (row.kind, outcome.result.value)] += 1
    if outcome.result != Result.UNCHANGED:
        journal.add("%s.skip" % row.kind, "Not sent: %s" % outcome.reason, kind=LogKind.WARNING,
                    **({"contact_id": row.object_id} if row.kind == SyncKind.CONTACT else {"order_id": row.object_id}))


def contact_operations(configuration, rows, journal, report):
    """(operations, sent): two PUTs per contact, and what each row will record once they succeed."""
    context = contact.load(configuration, rows)
    operations, sent = [], {}
    for row in rows:
        plan = contact.plan(configuration, row, context)
        if isinstance(plan, Outcome):
            _close_unplanned(row, plan, journal, report)
            continue
        # opt_in_status false: Mailchimp never lets a customer change an existing member, and the member
        # operation before it already applied the consent rules (status_if_new / status).
        operations.append(batches.encode(plan.member_operation(plan.status_change), "c:%d:member" % row.id))
        operations.append(batches.encode(plan.customer_operation(None), "c:%d:customer" % row.id))
        sent[str(row.id)] = {"email": plan.email, "shop_email": plan.shop_email, "opt_in": plan.permission,
                             "fingerprint": plan.fingerprint}
    return operations, sent


def order_operations(configuration, rows, journal, report):
    """(operations, sent): each new product once (a POST; "already exists" is fine), then each order."""
    context = order.load(configuration, rows)
    sent, products, order_operations_ = {}, {}, []
    for row in rows:
        plan = order.plan(configuration, row, context)
        if isinstance(plan, Outcome):
            _close_unplanned(row, plan, journal, report)
            continue
        for line in plan.lines:
            products.setdefault(line.product_id, line.product)
        order_operations_.append(batches.encode(
            Operation("POST", order_path(configuration.store_id), plan.payload), "o:%d:order" % row.id))
        sent[str(row.id)] = {"email": plan.email, "fingerprint": plan.fingerprint}
    operations = [
        batches.encode(Operation("POST", product_path(configuration.store_id), order.product_payload(product)),
                       "p:%d:product" % product_id)
        for product_id, product in sorted(products.items())
    ]
    return operations + order_operations_, sent


OPERATION_BUILDERS = {SyncKind.CONTACT: contact_operations, SyncKind.ORDER: order_operations}


# Closing rows from results -------------------------------------------------------------------------


def result_outcome(result, step):
    """The Outcome of one failed operation, by the classification every path uses. A batch runs outside
    the shop's round, so what would stop the shop only postpones the row."""
    outcome = classify(batches.error_of(result))
    outcome.reason = "%s: %s" % (step, outcome.reason)
    outcome.error = dict(outcome.error, operation_id=result.get("operation_id"))
    if outcome.result in SHOP_STOPS:
        outcome.result = Result.RETRY
    return outcome


def contact_outcome(results, sent):
    member, customer = results.get("member"), results.get("customer")
    if sent is None or member is None or customer is None:
        return Outcome(Result.RETRY, "Mailchimp's batch results did not cover this contact")
    for step, result in (("member", member), ("customer", customer)):
        if int(result.get("status_code") or 0) >= 400:
            return result_outcome(result, step)
    return Outcome.synced(email=sent["email"], shop_email=sent.get("shop_email", ""), opt_in=sent["opt_in"],
                          fingerprint=sent["fingerprint"],
                          member_status=batches.response_of(member).get("status", ""))


def order_outcome(results, sent):
    result = results.get("order")
    if sent is None or result is None:
        return Outcome(Result.RETRY, "no batch result for this order")
    status = int(result.get("status_code") or 0)
    if status < 400:
        return Outcome.synced(email=sent["email"], fingerprint=sent["fingerprint"])
    outcome = result_outcome(result, "order")
    if status == 400:
        # The order exists already, or a product was not there yet: the incremental path updates
        # existing orders and sends products first.
        outcome.result = Result.RETRY
    return outcome


ROW_OUTCOMES = {SyncKind.CONTACT: contact_outcome, SyncKind.ORDER: order_outcome}


def apply_results(batch, results, journal, report):
    """Close every row still leased to ``batch`` from Mailchimp's per-operation results."""
    by_row = defaultdict(dict)
    for result in results:
        parts = str(result.get("operation_id") or "").split(":")
        if len(parts) == 3 and parts[1].isdigit():
            by_row[int(parts[1])][parts[2]] = result
    sent = batch.sent or {}
    outcome_of = ROW_OUTCOMES[batch.kind]
    for row in state.held_by(batch.token).iterator():
        outcome = outcome_of(by_row.get(row.id, {}), sent.get(str(row.id)))
        status = state.close(row, outcome)
        word = "retried" if outcome.result == Result.RETRY and status == "pending" else outcome.result.value
        report["%s %s" % (row.kind, word)] += 1
        if outcome.result != Result.SYNCED:
            journal.add("%s.sync" % row.kind, outcome.reason, kind=LogKind.ERROR, extra=outcome.error,
                        **({"contact_id": row.object_id} if row.kind == SyncKind.CONTACT
                           else {"order_id": row.object_id}))


# Submitting and checking ---------------------------------------------------------------------------


def submit_batch(batch, configuration, session, journal, report):
    rows = list(state.held_by(batch.token))
    operations, sent = OPERATION_BUILDERS[batch.kind](configuration, rows, journal, report)
    now = timezone.now()
    if not operations:
        MailchimpBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.DONE, finished_on=now)
        batch.status = BatchStatus.DONE
        return batch
    answer = batches.submit(session, operations)
    batch.batch_id = answer["id"]
    batch.remote_status = answer.get("status", "")
    batch.status = BatchStatus.SUBMITTED
    batch.operations = len(operations)
    batch.sent = sent
    batch.submitted_on = now
    batch.save()
    state.extend_lease(batch.token, get_setting("BATCH_LEASE_SECONDS"), batch_id=batch.batch_id)
    journal.add("bulk.submit", "Batch %s submitted: %d %ss, %d operations" % (
        batch.batch_id, len(sent), batch.kind, len(operations)))
    return batch


def _lose(batch, journal):
    """Mailchimp forgot the batch: its rows go back to the queue for the incremental worker."""
    state.release_token(batch.token)
    MailchimpBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.LOST, finished_on=timezone.now())
    journal.add("bulk.lost", "Mailchimp no longer knows batch %s: its rows are queued again" % batch.batch_id,
                kind=LogKind.WARNING)


def _finish(batch, info, journal, report):
    results = batches.download_results(info["response_body_url"])
    apply_results(batch, results, journal, report)
    batch.status = BatchStatus.DONE
    batch.finished_on = timezone.now()
    batch.sent = None
    batch.save()
    journal.add("bulk.finish", "Batch %s finished: %d of %d operations failed" % (
        batch.batch_id, batch.errored_operations, batch.operations),
        kind=LogKind.WARNING if batch.errored_operations else LogKind.INFO)


def _statuses(session, submitted):
    """{batch id: status}, one listing for many batches; a batch missing from it is asked for alone."""
    known = batches.statuses(session) if len(submitted) > 1 else {}
    for batch in submitted:
        if batch.batch_id not in known:
            try:
                known[batch.batch_id] = batches.get_status(session, batch.batch_id)
            except MailchimpNotFound:
                known[batch.batch_id] = None
    return known


def check_batches(shop_id, report=None, progress=None):
    """One round: submit unsubmitted batches, poll the rest, apply finished results.

    Returns the number of batches still open. Safe to call from any process at any time: a
    batch's results close only rows still leased to it.
    """
    report = Counter() if report is None else report
    open_batches = list(MailchimpBatch.objects.filter(shop_id=shop_id, status__in=BatchStatus.OPEN))
    if not open_batches:
        return 0
    configuration = MailchimpConfiguration.objects.filter(shop_id=shop_id).first()
    if configuration is None or not configuration.is_active:
        return len(open_batches)
    journal = Journal(shop_id)
    session = None
    try:
        session = open_session(configuration)
        contacts_open = any(batch.kind == SyncKind.CONTACT for batch in open_batches)
        for batch in open_batches:
            # Orders wait for their customers' batches: an order then names a customer Mailchimp knows.
            if batch.status == BatchStatus.PREPARING and not (batch.kind == SyncKind.ORDER and contacts_open):
                submit_batch(batch, configuration, session, journal, report)
                if progress:
                    progress("submitted", batch)
        submitted = [batch for batch in open_batches if batch.status == BatchStatus.SUBMITTED]
        statuses = _statuses(session, submitted) if submitted else {}
        for batch in submitted:
            info = statuses.get(batch.batch_id)
            if info is None:
                _lose(batch, journal)
                continue
            batch.remote_status = info.get("status", "")
            batch.finished_operations = info.get("finished_operations") or 0
            batch.errored_operations = info.get("errored_operations") or 0
            if batch.remote_status == batches.FINISHED and info.get("response_body_url"):
                _finish(batch, info, journal, report)
                if progress:
                    progress("done", batch)
            else:
                MailchimpBatch.objects.filter(pk=batch.pk).update(
                    remote_status=batch.remote_status, finished_operations=batch.finished_operations,
                    errored_operations=batch.errored_operations,
                )
    except MailchimpError as error:
        # Nothing is lost: the next round starts where this one stopped; a throttle or an account
        # problem stops the shop as it would in the drainer.
        outcome = classify(error)
        if outcome.result == Result.THROTTLED:
            throttle_shop(shop_id, outcome.delay)
        elif outcome.result == Result.ACCOUNT_PROBLEM:
            pause(configuration, outcome.reason, journal, outcome.error)
        journal.error("bulk.check", error)
        logger.warning("Checking Mailchimp batches of shop %s failed: %s", shop_id, error)
    finally:
        journal.flush()
        if session is not None:
            session.close()
    return MailchimpBatch.objects.filter(shop_id=shop_id, status__in=BatchStatus.OPEN).count()


def resume_batches(shop_id, wait=True, poll_interval=None, timeout=None, report=None, progress=None):
    """Finish whatever batches a previous run left open; returns the number still open."""
    poll_interval = get_setting("BATCH_POLL_INTERVAL") if poll_interval is None else poll_interval
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = check_batches(shop_id, report=report, progress=progress)
        if not remaining or not wait or (deadline is not None and time.monotonic() >= deadline):
            return remaining
        time.sleep(poll_interval)


def start(shop_id, include_orders=False, report=None, progress=None):
    """Record never-seen contacts (and orders) and submit their batches; returns (rows, batches)."""
    _configuration(shop_id)
    kinds = [SyncKind.CONTACT] + ([SyncKind.ORDER] if include_orders else [])
    created = []
    for kind in kinds:
        created.extend(record_existing(shop_id, kind, progress=progress))
    check_batches(shop_id, report=report, progress=progress)
    return sum(batch.rows for batch in created), len(created)


def sync_existing(shop_id, include_orders=False, wait=True, poll_interval=None, timeout=None, progress=None):
    """The whole bulk sync: record, submit, then wait for every open batch; returns a Counter."""
    report = Counter()
    start(shop_id, include_orders=include_orders, report=report, progress=progress)
    remaining = resume_batches(shop_id, wait=wait, poll_interval=poll_interval, timeout=timeout, report=report,
                               progress=progress)
    if remaining:
        report["batches still open"] = remaining
    return report


def batch_progress(shop_id):
    """Counts for the status page: open and finished batches, and the rows they hold."""
    rows = MailchimpBatch.objects.filter(shop_id=shop_id)
    open_batches = rows.filter(status__in=BatchStatus.OPEN)
    return {
        "open": open_batches.count(),
        "submitted": open_batches.filter(status=BatchStatus.SUBMITTED).count(),
        "done": rows.filter(status=BatchStatus.DONE).count(),
        "open_rows": sum(open_batches.values_list("rows", flat=True)),
        "finished_operations": sum(open_batches.values_list("finished_operations", flat=True)),
        "operations": sum(open_batches.values_list("operations", flat=True)),
    }
