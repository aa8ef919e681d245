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
from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from shuup.core.models import Contact, Order

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.journal import Journal
from shoop_mailchimp.mailchimp import batches, members
from shoop_mailchimp.mailchimp import orders as mailchimp_orders
from shoop_mailchimp.mailchimp.client import InvalidAPIKey, build_client
from shoop_mailchimp.mailchimp.errors import MailchimpError, MailchimpNotFound, MailchimpRateLimited
from shoop_mailchimp.mailchimp.products import product_payload
from shoop_mailchimp.models import (
    BatchStatus,
    LogKind,
    MailchimpBatch,
    MailchimpConfiguration,
    SyncKind,
    SyncState,
    SyncStatus,
)
from shoop_mailchimp.sync import contacts, orders, outcomes
from shoop_mailchimp.sync.worker import close_unsent

logger = logging.getLogger(__name__)


class BulkSyncError(Exception):
    """The bulk sync cannot start; the message is meant for the shop owner."""


def _configuration(shop_id):
    configuration = MailchimpConfiguration.objects.filter(shop_id=shop_id).first()
    if configuration is None or not configuration.is_active:
        raise BulkSyncError("Mailchimp is not active for this shop: configure and initialize it first.")
    return configuration


# Recording ------------------------------------------------------------------------------------------


def shop_contacts(shop):
    """The contacts of a shop as Shuup's admin lists them."""
    if settings.SHUUP_ENABLE_MULTIPLE_SHOPS and settings.SHUUP_MANAGE_CONTACTS_PER_SHOP:
        return Contact.objects.filter(shops=shop)
    return Contact.objects.all()


def unqueued_ids(shop, kind):
    """Objects of the shop the sync has never seen (no sync-state row)."""
    known = SyncState.objects.filter(shop=shop, kind=kind).values("object_id")
    objects = shop_contacts(shop) if kind == SyncKind.CONTACT else Order.objects.filter(shop=shop)
    return objects.exclude(pk__in=known).values_list("pk", flat=True)


def record_existing(shop, kind=SyncKind.CONTACT, progress=None):
    """Lease a new row for every never-seen object to a batch, ``BATCH_SIZE`` per batch; returns the batches."""
    ids = list(unqueued_ids(shop, kind).order_by("pk"))
    size = max(1, int(get_setting("BATCH_SIZE")))
    created = []
    for start in range(0, len(ids), size):
        batch = _record_chunk(shop.pk, kind, ids[start:start + size])
        if batch is not None:
            created.append(batch)
            if progress:
                progress("recorded", batch)
    return created


def _record_chunk(shop_id, kind, object_ids):
    now = timezone.now()
    token = uuid.uuid4().hex
    lease_until = now + timedelta(seconds=get_setting("BATCH_LEASE_SECONDS"))
    with transaction.atomic():
        SyncState.objects.bulk_create([
            SyncState(shop_id=shop_id, kind=kind, object_id=pk, status=SyncStatus.SENDING, next_attempt_at=now,
                      lease_until=lease_until, claimed_by=token, claimed_version=1)
            for pk in object_ids
        ], ignore_conflicts=True)
        # A row recorded by a receiver at the same moment is not ours: the incremental path sends it.
        count = SyncState.objects.filter(shop_id=shop_id, claimed_by=token).count()
        if not count:
            return None
        return MailchimpBatch.objects.create(shop_id=shop_id, kind=kind, token=token, rows=count)


# Building operations ------------------------------------------------------------------------------


def contact_operations(configuration, rows, journal, report):
    """(operations, sent): two PUTs per contact, and what each row will record once they succeed."""
    loaded = contacts.load_contacts(rows)
    group_ids = contacts.load_group_ids(rows)
    interest_ids = contacts.load_interest_ids(configuration.shop_id)
    operations, sent = [], {}
    for row in rows:
        contact = loaded.get(row.object_id)
        problem = contacts.unsendable(contact)
        if problem:
            close_unsent(row, *problem, journal, report)
            continue
        plan = contacts.ContactPlan(contact, row, configuration, group_ids.get(contact.pk, set()), interest_ids)
        member = dict(plan.member)
        if plan.status_change:
            member["status"] = plan.status_change
        # opt_in_status false: Mailchimp never lets a customer change an existing member, and the member
        # operation before it already applied the consent rules (status_if_new / status).
        customer = dict(plan.customer, opt_in_status=False)
        operations.append(batches.operation(
            "PUT", "/lists/%s/members/%s" % (configuration.list_id, members.subscriber_hash(plan.email)),
            member, "c:%d:member" % row.id,
        ))
        operations.append(batches.operation(
            "PUT", "/ecommerce/stores/%s/customers/%s" % (configuration.store_id, quote(customer["id"], safe="")),
            customer, "c:%d:customer" % row.id,
        ))
        sent[str(row.id)] = {"email": plan.email, "shop_email": plan.shop_email, "opt_in": plan.permission,
                             "fingerprint": plan.fingerprint}
    return operations, sent


def order_operations(configuration, rows, journal, report):
    """(operations, sent): each new product once (a POST; "already exists" is fine), then each order."""
    loaded = orders.load_orders(rows)
    subscribed = orders.subscribed_customer_ids(configuration.shop_id, loaded.values())
    operations, sent, products = [], {}, {}
    order_operations_ = []
    for row in rows:
        try:
            plan = orders.OrderPlan(loaded.get(row.object_id), configuration, subscribed)
        except mailchimp_orders.UnsendableOrder as reason:
            close_unsent(row, "skipped", str(reason), journal, report)
            continue
        for line in plan.lines:
            products.setdefault(line.product_id, line.product)
        order_operations_.append(batches.operation(
            "POST", "/ecommerce/stores/%s/orders" % configuration.store_id, plan.payload, "o:%d:order" % row.id
        ))
        sent[str(row.id)] = {"email": plan.email, "fingerprint": plan.fingerprint}
    for product_id, product in sorted(products.items()):
        operations.append(batches.operation(
            "POST", "/ecommerce/stores/%s/products" % configuration.store_id, product_payload(product),
            "p:%d:product" % product_id,
        ))
    return operations + order_operations_, sent


OPERATION_BUILDERS = {SyncKind.CONTACT: contact_operations, SyncKind.ORDER: order_operations}


# Closing rows from results -------------------------------------------------------------------------


def _transient(status):
    return status == 429 or status >= 500


def _error_text(step, result):
    title, detail = batches.problem_of(result)
    return "%s: %s" % (step, detail or title or "HTTP %s" % result.get("status_code"))


def _error_data(result):
    title, detail = batches.problem_of(result)
    return {"status": result.get("status_code"), "title": title, "detail": detail,
            "operation_id": result.get("operation_id")}


def close_contact(row, results, sent, journal, report):
    member, customer = results.get("member"), results.get("customer")
    if sent is None or member is None or customer is None:
        outcomes.mark_retry(row, "Mailchimp's batch results did not cover this contact")
        report["contact retried"] += 1
        return
    for step, result in (("member", member), ("customer", customer)):
        status = int(result.get("status_code") or 0)
        if status < 400:
            continue
        text = _error_text(step, result)
        if _transient(status):
            retried = outcomes.mark_retry(row, text, _error_data(result))
            report["contact %s" % ("retried" if retried else "failed")] += 1
        else:
            outcomes.mark_failed(row, text, _error_data(result))
            report["contact failed"] += 1
        journal.add("contact.sync", text, kind=LogKind.ERROR, contact_id=row.object_id, extra=_error_data(result))
        return
    outcomes.mark_synced(row, email=sent["email"], shop_email=sent.get("shop_email", ""), opt_in=sent["opt_in"],
                         fingerprint=sent["fingerprint"],
                         member_status=batches.response_of(member).get("status", ""))
    report["contact synced"] += 1


def close_order(row, results, sent, journal, report):
    result = results.get("order")
    status = int(result.get("status_code") or 0) if result else 0
    if sent is not None and result is not None and status < 400:
        outcomes.mark_synced(row, email=sent["email"], fingerprint=sent["fingerprint"])
        report["order synced"] += 1
        return
    if result is not None and status >= 400 and not _transient(status) and status != 400:
        outcomes.mark_failed(row, _error_text("order", result), _error_data(result))
        report["order failed"] += 1
        return
    # A 400 (the order exists already, or a product was not there yet) and transient failures go to
    # the incremental path, which updates existing orders and sends products first.
    outcomes.mark_retry(row, _error_text("order", result) if result else "no batch result for this order",
                        _error_data(result) if result else None)
    report["order retried"] += 1


ROW_CLOSERS = {SyncKind.CONTACT: close_contact, SyncKind.ORDER: close_order}


def apply_results(batch, results, journal, report):
    """Close every row still leased to ``batch`` from Mailchimp's per-operation results."""
    by_row = defaultdict(dict)
    for result in results:
        parts = str(result.get("operation_id") or "").split(":")
        if len(parts) == 3 and parts[1].isdigit():
            by_row[int(parts[1])][parts[2]] = result
    sent = batch.sent or {}
    closer = ROW_CLOSERS[batch.kind]
    for row in SyncState.objects.filter(shop_id=batch.shop_id, claimed_by=batch.token).iterator():
        closer(row, by_row.get(row.id, {}), sent.get(str(row.id)), journal, report)


# Submitting and checking ---------------------------------------------------------------------------


def _rows(batch):
    return SyncState.objects.filter(shop_id=batch.shop_id, claimed_by=batch.token)


def submit_batch(batch, configuration, client, journal, report):
    rows = list(_rows(batch))
    operations, sent = OPERATION_BUILDERS[batch.kind](configuration, rows, journal, report)
    now = timezone.now()
    if not operations:
        MailchimpBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.DONE, finished_on=now)
        batch.status = BatchStatus.DONE
        return batch
    answer = batches.submit(client, operations)
    batch.batch_id = answer["id"]
    batch.remote_status = answer.get("status", "")
    batch.status = BatchStatus.SUBMITTED
    batch.operations = len(operations)
    batch.sent = sent
    batch.submitted_on = now
    batch.save()
    _rows(batch).update(batch_id=batch.batch_id,
                        lease_until=now + timedelta(seconds=get_setting("BATCH_LEASE_SECONDS")))
    journal.add("bulk.submit", "Batch %s submitted: %d %ss, %d operations" % (
        batch.batch_id, len(sent), batch.kind, len(operations)))
    return batch


def _lose(batch, journal):
    """Mailchimp forgot the batch: its rows go back to the queue for the incremental worker."""
    _rows(batch).update(status=SyncStatus.PENDING, lease_until=None, claimed_by="", batch_id="",
                        next_attempt_at=timezone.now())
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


def _statuses(client, submitted):
    """{batch id: status}, one listing for many batches; a batch missing from it is asked for alone."""
    known = batches.statuses(client) if len(submitted) > 1 else {}
    for batch in submitted:
        if batch.batch_id not in known:
            try:
                known[batch.batch_id] = batches.get_status(client, batch.batch_id)
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
    client = None
    try:
        client = build_client(configuration)
        for batch in open_batches:
            if batch.status == BatchStatus.PREPARING:
                submit_batch(batch, configuration, client, journal, report)
                if progress:
                    progress("submitted", batch)
        submitted = [batch for batch in open_batches if batch.status == BatchStatus.SUBMITTED]
        statuses = _statuses(client, submitted) if submitted else {}
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
    except MailchimpRateLimited as error:
        journal.error("bulk.throttled", error)
    except (MailchimpError, InvalidAPIKey) as error:
        # Nothing is lost: the next round starts where this one stopped.
        journal.error("bulk.check", error)
        logger.warning("Checking Mailchimp batches of shop %s failed: %s", shop_id, error)
    finally:
        journal.flush()
        if client is not None:
            client.close()
    return MailchimpBatch.objects.filter(shop_id=shop_id, status__in=BatchStatus.OPEN).count()


def resume_batches(shop, wait=True, poll_interval=None, timeout=None, report=None, progress=None):
    """Finish whatever batches a previous run left open; returns the number still open."""
    poll_interval = get_setting("BATCH_POLL_INTERVAL") if poll_interval is None else poll_interval
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = check_batches(shop.pk, report=report, progress=progress)
        if not remaining or not wait or (deadline is not None and time.monotonic() >= deadline):
            return remaining
        time.sleep(poll_interval)


def start(shop, include_orders=False, report=None, progress=None):
    """Record never-seen contacts (and orders) and submit their batches; returns (rows, batches)."""
    _configuration(shop.pk)
    kinds = [SyncKind.CONTACT] + ([SyncKind.ORDER] if include_orders else [])
    created = []
    for kind in kinds:
        created.extend(record_existing(shop, kind, progress=progress))
    check_batches(shop.pk, report=report, progress=progress)
    return sum(batch.rows for batch in created), len(created)


def sync_existing(shop, include_orders=False, wait=True, poll_interval=None, timeout=None, progress=None):
    """The whole bulk sync: record, submit, then wait for every open batch; returns a Counter."""
    report = Counter()
    start(shop, include_orders=include_orders, report=report, progress=progress)
    remaining = resume_batches(shop, wait=wait, poll_interval=poll_interval, timeout=timeout, report=report,
                               progress=progress)
    if remaining:
        report["batches still open"] = remaining
    return report


def batch_progress(shop):
    """Counts for the status page: open and finished batches, and the rows they hold."""
    rows = MailchimpBatch.objects.filter(shop=shop)
    open_batches = rows.filter(status__in=BatchStatus.OPEN)
    return {
        "open": open_batches.count(),
        "submitted": open_batches.filter(status=BatchStatus.SUBMITTED).count(),
        "done": rows.filter(status=BatchStatus.DONE).count(),
        "open_rows": sum(open_batches.values_list("rows", flat=True)),
        "finished_operations": sum(open_batches.values_list("finished_operations", flat=True)),
        "operations": sum(open_batches.values_list("operations", flat=True)),
    }
