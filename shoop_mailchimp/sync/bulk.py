"""Bulk sync of a shop's existing contacts, products, orders and coupon campaigns through Mailchimp batches.

The incremental path sends one contact per request; a shop connecting years of customers would
wait hours. Here each chunk of ``BATCH_SIZE`` objects becomes one ``POST /batches``:

1. **record** — sync-state rows are created already leased to a :class:`MailchimpBatch`
   (status ``sending``, ``claimed_by`` = the batch's token, lease ``BATCH_LEASE_SECONDS``), so the
   incremental worker's claim skips them. A change recorded meanwhile bumps the row's version:
   when the batch closes the row it goes back to pending and the newer state follows.
2. **submit** — operations are built by the kind's ``BATCH_PHASES`` from the plans the one-by-one
   path runs (:class:`~shoop_mailchimp.sync.kinds.contact.ContactPlan`), each ``operation_id`` naming
   the row and step (``c:<row id>:member``); Mailchimp's batch id is saved. A phase's results are
   read by the same kind, and the chunk goes on to its next phase (members, then customers).
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

from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.journal import Journal
from shoop_mailchimp.mailchimp import batches
from shoop_mailchimp.mailchimp.errors import MailchimpError, MailchimpNotFound
from shoop_mailchimp.mailchimp.limits import shop_throttled_for
from shoop_mailchimp.mailchimp.resources import store_path
from shoop_mailchimp.mailchimp.transport import open_session
from shoop_mailchimp.models import (
    BatchOrigin,
    BatchStatus,
    LogKind,
    MailchimpBatch,
    MailchimpConfiguration,
    SyncState,
    SyncStatus,
)
from shoop_mailchimp.sync import kinds, state
from shoop_mailchimp.sync.drainer import ShopDelivery, account_gone, report_close, still_refused, stop_shop
from shoop_mailchimp.sync.kinds import BY_KIND, depends_on
from shoop_mailchimp.sync.outcome import Outcome, Result, classify

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
    """Objects of the shop the sync has never seen (no sync-state row), as the kind says."""
    return BY_KIND[kind].unsent_ids(shop_id)


def record_existing(shop_id, kind, progress=None):
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


# Planning ---------------------------------------------------------------------------------------------


def _close_unplanned(row, outcome, journal, report):
    report_close(journal, report, row, outcome, state.close(row, outcome))


def _planned(kind_module, configuration, rows, journal, report, planned=None):
    """(row, plan) for each row a batch can carry, by the kind's own plans. A row with nothing to send is
    closed with its Outcome; a plan that fails with an error of ours is retried later, by the drainer; a
    plan a batch cannot carry (changed since a burst chose it: a new address, consent given again, an
    erasure) goes back to the drainer. ``planned``: the (row, plan) pairs a burst made moments ago, kept
    for the rows the batch still holds (planning again was a tenth of a burst)."""
    if planned is not None:
        held = {row.id for row in rows}
        yield from ((row, plan) for row, plan in planned if row.id in held)
        return
    context = kind_module.load(configuration, rows)
    for row in rows:
        try:
            plan = kind_module.plan(configuration, row, context)
        except Exception as error:
            logger.exception("Planning %s %s for a batch failed", row.kind, row.object_id)
            plan = classify(error)
        if isinstance(plan, Outcome):
            _close_unplanned(row, plan, journal, report)
        elif not plan.batchable:
            state.release([row])
        else:
            yield row, plan


def recovered_marks(rows):
    """What a burst's batch keeps in ``sent`` from the start: which of its rows were recovered (a lost
    attempt's, see :func:`state.claim`), or None. The batch's token replaces the one that told so."""
    return {str(row.id): {"recovered": True} for row in rows if getattr(row, "recovered", False)} or None


def _mark_recovered(batch, rows):
    """Rows loaded for a batch's first phase carry ``recovered`` as the burst claimed them: planned here
    (another worker, after a crash) they are never left out and send a withdrawal again, given back they stay
    recovered."""
    sent = batch.sent or {}
    for row in rows:
        marks = sent.get(str(row.id)) or {}
        row.recovered = bool(marks.get("recovered"))
    return rows


def _with_warnings(pairs, journal):
    """The (row, plan) pairs, each plan's warnings logged as the one-by-one path logs them (a product sent
    without its negative price)."""
    for row, plan in pairs:
        for action, message in getattr(plan, "warnings", ()):
            journal.add(action, message, kind=LogKind.WARNING, **BY_KIND[row.kind].log_target(row.object_id))
        yield row, plan


def _noting(pairs, notes):
    """The (row, plan) pairs; what each plan notes before sending (:func:`state.note_before_sending`: the consent
    its write carries, a first send's address) gathered in ``notes``, noted before the batch goes out."""
    for row, plan in pairs:
        noted = getattr(plan, "noted_before_sending", None)
        if noted:
            notes.append((row, noted))
        yield row, plan


def _phases(batch):
    return BY_KIND[batch.kind].BATCH_PHASES


def _build(configuration, batch, rows, journal, report, planned=None):
    """The phase's operations, by its kind; what each row's send says is kept in ``batch.sent``, with the
    guarded values (Mailchimp-side facts, a consent request) its row held when the batch was made (see
    :func:`apply_results`)."""
    phase = _phases(batch)[batch.phase]
    sent = batch.sent or {}
    notes = []
    pairs = (_noting(_with_warnings(_planned(BY_KIND[batch.kind], configuration, rows, journal, report, planned),
                                    journal), notes) if phase.plans else None)
    operations = phase.build(configuration, pairs, rows, sent)
    if notes:
        state.note_sending_together(batch.token, notes)
    for row in rows:
        facts = sent.get(str(row.id))
        if facts is not None and "held" not in facts:
            facts["held"] = {name: getattr(row, name) for name in state.GUARDED_FIELDS}
    batch.sent = sent
    return operations


# Closing rows from results -------------------------------------------------------------------------


#: Seconds a worker holds a batch it submits or reads; a worker killed meanwhile is replaced after it.
TAKE_SECONDS = 120
#: Rows closed per transaction when a batch's results are read on SQLite.
CLOSE_CHUNK = 50


def apply_results(configuration, batch, results, journal, report):
    """Read a finished phase's per-operation results: close the rows it settles; returns whether rows are
    left for the next phase."""
    by_row = defaultdict(dict)
    for result in results:
        parts = str(result.get("operation_id") or "").split(":")
        if len(parts) == 3 and parts[1].isdigit():
            by_row[int(parts[1])][parts[2]] = result
    sent = batch.sent or {}
    read = _phases(batch)[batch.phase].read
    left = False
    readings = []
    for row in state.held_by(batch.token).order_by("id"):
        # The close writes a Mailchimp-side fact only where it still holds its value of when the batch was
        # made: a webhook applied while the batch ran (an unsubscribe) is newer than the batch's results.
        for name, value in (sent.get(str(row.id)) or {}).get("held", {}).items():
            setattr(row, name, value)
        # A lost attempt's row (recovered when the burst claimed it) stays one until a close learns its member
        # (review aud43 F2: a failed write of its retry dropped the token, and the withdrawal with it).
        row.recovered = bool((sent.get(str(row.id)) or {}).get("recovered"))
        outcome = read(configuration, row, by_row.get(row.id, {}), sent.get(str(row.id)))
        if outcome is None:
            left = True
        else:
            readings.append((row, outcome))
    for _row, outcome in readings:
        for learnt in outcome.learnt:  # as the drainer does: what the send taught, whatever becomes of the row
            learnt.remember(configuration)
    closed = state.close_synced_together([(row, outcome) for row, outcome in readings if not outcome.requeue])
    for row, outcome in readings:
        if row.id in closed:
            _after_close(batch, row, outcome, SyncStatus.SYNCED, journal, report)
    readings = [(row, outcome) for row, outcome in readings if row.id not in closed]
    # On SQLite a few dozen closes per transaction: one commit each was most of a big batch's time, and a
    # short transaction keeps a contact saved meanwhile from waiting long. Elsewhere one each: a transaction
    # holding a row's lock while it withdraws a contact's consent must not hold many.
    chunk = CLOSE_CHUNK if connection.vendor == "sqlite" else 1
    for start in range(0, len(readings), chunk):
        with transaction.atomic():
            for row, outcome in readings[start:start + chunk]:
                kinds.before_close(BY_KIND[row.kind], row, outcome)
                _after_close(batch, row, outcome, state.close(row, outcome), journal, report)
        # Outside the transaction: queueing many rows again must not wait for one while holding others.
        for _row, outcome in readings[start:start + chunk]:
            for kind, object_ids, only_known in outcome.requeue:
                state.requeue(batch.shop_id, kind, object_ids, only_known=only_known)
            for kind, object_ids in outcome.resend_as_new:
                state.resend_as_new(batch.shop_id, kind, object_ids)
    batch.sent = sent
    return left


def _after_close(batch, row, outcome, status, journal, report):
    kinds.after_close(BY_KIND[row.kind], row, outcome, status, journal)
    report_close(journal, report, row, outcome, status)


# Submitting and checking ---------------------------------------------------------------------------


def _take(batch):
    """Whether this worker may act on the batch (submit it, read its results): not when another worker
    took it less than TAKE_SECONDS ago, nor when the batch moved on since this worker loaded it (another
    status, phase or Mailchimp batch)."""
    now = timezone.now()
    until = now + timedelta(seconds=TAKE_SECONDS)
    if not MailchimpBatch.objects.filter(
        pk=batch.pk, status=batch.status, phase=batch.phase, batch_id=batch.batch_id
    ).filter(Q(taken_until__isnull=True) | Q(taken_until__lt=now)).update(taken_until=until):
        return False
    batch.taken_until = until  # this worker's take: its writes hold only while the batch still shows it
    return True


def _still_taken(batch):
    return MailchimpBatch.objects.filter(pk=batch.pk, taken_until=batch.taken_until).exists()


def _save_and_give_back(batch):
    """Save what this worker did to the batch, and give it back, only if the batch still shows this
    worker's take: a worker slower than TAKE_SECONDS (a read waiting on a lock) must not overwrite what
    the worker that took the batch after it did. Returns whether it saved."""
    taken, batch.taken_until = batch.taken_until, None
    fields = {field.attname: getattr(batch, field.attname)
              for field in MailchimpBatch._meta.concrete_fields if not field.primary_key}
    saved = bool(MailchimpBatch.objects.filter(pk=batch.pk, taken_until=taken).update(**fields))
    if not saved:
        logger.warning("Batch %s was taken by another worker while this one held it too long", batch.pk)
    return saved


def submit_batch(batch, configuration, session, journal, report, planned=None):
    # Loaded as waiting, it may have been submitted since by another worker: never a second time.
    if batch.status != BatchStatus.PREPARING or not _take(batch):
        return batch
    try:
        return _submit(batch, configuration, session, journal, report, planned)
    except BaseException:
        _give_back(batch)  # failed (or the worker is stopped): the next round may try at once
        raise


def _give_back(batch):
    MailchimpBatch.objects.filter(pk=batch.pk, taken_until=batch.taken_until).update(taken_until=None)


def _submit(batch, configuration, session, journal, report, planned=None):
    rows = _mark_recovered(batch, list(state.held_by(batch.token)))
    operations = _build(configuration, batch, rows, journal, report, planned)
    now = timezone.now()
    if not operations:
        # Nothing of this phase to send (every step skipped or closed): read it as done at once.
        _advance(configuration, batch, [], journal, report)
        if batch.status == BatchStatus.PREPARING:
            return submit_batch(batch, configuration, session, journal, report)
        return batch
    if not _still_taken(batch):  # planning took longer than TAKE_SECONDS: another worker submits it
        return batch
    answer = batches.submit(session, operations)
    batch.batch_id = answer["id"]
    batch.remote_status = answer.get("status", "")
    batch.status = BatchStatus.SUBMITTED
    batch.operations = len(operations)
    batch.submitted_on = now
    if not _save_and_give_back(batch):
        if MailchimpBatch.objects.filter(pk=batch.pk, status=BatchStatus.CANCELLED).exists():
            # A disconnect stopped the batch while Mailchimp was accepting it: stopped there too.
            stop_in_mailchimp(session, batch.batch_id, journal)
            journal.add("bulk.cancel", "Batch %s stopped in Mailchimp: the disconnect cancelled it while Mailchimp "
                        "was accepting it" % batch.batch_id, kind=LogKind.WARNING)
        return batch
    state.extend_lease(batch.token, get_setting("BATCH_LEASE_SECONDS"), batch_id=batch.batch_id)
    journal.add("bulk.submit", "Batch %s submitted: %d operations for %d %ss (phase %d of %d)" % (
        batch.batch_id, len(operations), len(rows), batch.kind, batch.phase + 1, len(_phases(batch))))
    return batch


def _still_polled(batch_pk, batch_id):
    """The batch, while it still waits for the Mailchimp batch that was polled: another worker may have
    read it and moved it on meanwhile."""
    return MailchimpBatch.objects.filter(pk=batch_pk, status=BatchStatus.SUBMITTED, batch_id=batch_id)


def _lose(batch_pk, batch_id, journal):
    """Mailchimp forgot the batch: its rows go back to the queue for the incremental worker (unless the
    batch moved on meanwhile, and Mailchimp forgot a batch done with)."""
    polled = _still_polled(batch_pk, batch_id)
    token = polled.values_list("token", flat=True).first()
    if token is None or not polled.update(status=BatchStatus.LOST, finished_on=timezone.now()):
        return
    state.lapse_token(token)
    journal.add("bulk.lost", "Mailchimp no longer knows batch %s: its rows are queued again" % batch_id,
                kind=LogKind.WARNING)


def cancel_open_batches(shop_id, journal):
    """A disconnect: the shop's open batches stop here and their rows go back to the queue, sent again on
    reconnect (the PUTs are idempotent). Returns the ids of the batches Mailchimp had accepted, to stop them
    there too."""
    submitted = []
    for pk, token, batch_id in MailchimpBatch.objects.filter(shop_id=shop_id, status__in=BatchStatus.OPEN).values_list(
            "pk", "token", "batch_id"):
        # A worker holding the batch (submitting it, reading its results) loses its take: its save of what it
        # did next (another phase, a lease of the rows) finds the batch no longer its own (review pg49 F1).
        if MailchimpBatch.objects.filter(pk=pk, status__in=BatchStatus.OPEN).update(
                status=BatchStatus.CANCELLED, finished_on=timezone.now(), taken_until=None):
            rows = state.lapse_token(token)
            journal.add("bulk.cancel", "Batch %s stopped by the disconnect: its %d items are sent again on "
                        "reconnect" % (batch_id or pk, rows), kind=LogKind.WARNING)
            if batch_id:
                submitted.append(batch_id)
    return submitted


def stop_in_mailchimp(session, batch_id, journal):
    """Stop a cancelled batch in Mailchimp; one it finishes anyway is harmless (its writes are the shop's own,
    idempotent), so a failure is only logged."""
    try:
        batches.stop(session, batch_id)
    except MailchimpError as error:
        journal.error("bulk.cancel", error, extra={"batch_id": batch_id})


def _finish(configuration, session, batch, info, journal, report):
    """Read a finished phase; the chunk then goes on to its next phase, or is done. Operations refused with
    a 404 are first checked as the drainer checks one: when the audience or the store itself is gone, the
    shop pauses and the rows wait for the repair, instead of failing each. Not a phase that only reads (a member
    read's 404 is its answer: none there)."""
    if not _take(batch):
        return
    try:
        results = batches.download_results(info["response_body_url"])
        gone = not _phases(batch)[batch.phase].reads and any(
            batches.operation_not_found(result) for result in results) and account_gone(
            session, configuration, {"batch_id": batch.batch_id})
    except BaseException:
        _give_back(batch)
        raise
    if gone:
        stop_shop(configuration, gone, journal)
        if gone.result == Result.ACCOUNT_PROBLEM:
            _set_aside(batch, journal, gone.reason)
        else:  # the check itself failed (a throttle, an outage): the results are read at a later look
            _give_back(batch)
        return
    journal.add("bulk.finish", "Batch %s finished: %d of %d operations failed" % (
        batch.batch_id, batch.errored_operations, batch.operations),
        kind=LogKind.WARNING if batch.errored_operations else LogKind.INFO)
    _advance(configuration, batch, results, journal, report)


def _set_aside(batch, journal, reason):
    """The phase's results cannot be read now (the shop stops: an audience or store gone): its rows are due
    again as a lost attempt's, sent after the repair, and the batch ends as lost."""
    batch.status, batch.finished_on, batch.sent = BatchStatus.LOST, timezone.now(), None
    if _save_and_give_back(batch):
        state.lapse_token(batch.token)
        journal.add("bulk.lost", "Batch %s set aside: %s" % (batch.batch_id, reason), kind=LogKind.WARNING)


def _advance(configuration, batch, results, journal, report):
    """Close the rows a phase's results settle; the rest go on to the next phase, or the batch is done."""
    left = apply_results(configuration, batch, results, journal, report)
    if left and batch.phase + 1 < len(_phases(batch)):
        batch.phase += 1
        batch.status, batch.batch_id, batch.remote_status = BatchStatus.PREPARING, "", ""
        batch.finished_operations = batch.errored_operations = 0
    else:
        batch.status, batch.finished_on, batch.sent = BatchStatus.DONE, timezone.now(), None
    _save_and_give_back(batch)


def _statuses(session, batch_ids):
    """{batch id: status}, one listing for many batches; a batch missing from it is asked for alone."""
    known = batches.statuses(session) if len(batch_ids) > 1 else {}
    for batch_id in batch_ids:
        if batch_id not in known:
            try:
                known[batch_id] = batches.get_status(session, batch_id)
            except MailchimpNotFound:
                known[batch_id] = None
    return known


def check_batches(shop_id, report=None, progress=None, plans=None, poll=True):
    """One round: submit unsubmitted batches, poll the rest (unless ``poll`` is false), apply finished
    results. ``plans``: {batch pk: its first phase's (row, plan) pairs}, when the caller just made them.

    Returns the number of batches still open. Safe to call from any process at any time: a
    batch's results close only rows still leased to it.
    """
    report = Counter() if report is None else report
    # A batch is loaded whole (with what it sent, a few hundred kilobytes) only to be submitted or read, and
    # let go after: a sync of 50,000 contacts keeps 100 batches open at once.
    open_batches = list(MailchimpBatch.objects.filter(shop_id=shop_id, status__in=BatchStatus.OPEN).order_by(
        "pk").values_list("pk", "kind", "status"))
    if not open_batches:
        return 0
    configuration = MailchimpConfiguration.objects.filter(shop_id=shop_id).first()
    if configuration is None or not configuration.is_active or shop_throttled_for(shop_id):
        return len(open_batches)  # nothing lost: the next round after the pause (or the repair) goes on
    journal = Journal(shop_id)
    session = None
    try:
        session = open_session(configuration)
        # A kind's batches wait for those of the kinds it names (orders for their customers' and products'): its
        # operations then name what Mailchimp knows.
        open_kinds = {kind for _pk, kind, _status in open_batches}
        for pk, kind, status in open_batches:
            if status == BatchStatus.PREPARING and not open_kinds.intersection(depends_on(kind)):
                batch = submit_batch(MailchimpBatch.objects.get(pk=pk), configuration, session, journal, report,
                                     (plans or {}).get(pk))
                if progress:
                    progress("submitted", batch)
        submitted = dict(MailchimpBatch.objects.filter(
            pk__in=[pk for pk, _kind, _status in open_batches], status=BatchStatus.SUBMITTED
        ).order_by("pk").values_list("batch_id", "pk")) if poll else {}
        statuses = _statuses(session, list(submitted)) if submitted else {}
        for batch_id, pk in submitted.items():
            info = statuses.get(batch_id)
            if info is None:
                _lose(pk, batch_id, journal)
                continue
            progress_fields = dict(remote_status=info.get("status", ""),
                                   finished_operations=info.get("finished_operations") or 0,
                                   errored_operations=info.get("errored_operations") or 0)
            if progress_fields["remote_status"] == batches.FINISHED and info.get("response_body_url"):
                batch = MailchimpBatch.objects.get(pk=pk)
                if batch.status != BatchStatus.SUBMITTED or batch.batch_id != batch_id:
                    continue  # another worker read these results and moved the batch on meanwhile
                for name, value in progress_fields.items():
                    setattr(batch, name, value)
                _finish(configuration, session, batch, info, journal, report)
                if batch.status == BatchStatus.PREPARING and not open_kinds.intersection(depends_on(batch.kind)):
                    # The next phase at once, not a poll later: one with nothing to send (a burst of group
                    # changes leaves every customer as it was) closes its rows now.
                    batch = submit_batch(batch, configuration, session, journal, report)
                if progress:
                    progress("done", batch)
            else:
                _still_polled(pk, batch_id).update(**progress_fields)
    except MailchimpError as error:
        # Nothing is lost: the next round starts where this one stopped; a throttle or an account
        # problem stops the shop as it would in the drainer.
        stop_shop(configuration, classify(error), journal)
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
    """Record never-seen contacts and products (and orders) and submit their batches; returns (rows, batches).

    The store is marked ``is_syncing`` first: Mailchimp then sends no order notification and starts no
    automation for what the import brings (years of orders would otherwise mail every customer).
    """
    configuration = _configuration(shop_id)
    imported = kinds.synced_existing(kinds.IN_IMPORT, kinds.HISTORY) if include_orders else kinds.synced_existing(
        kinds.IN_IMPORT)
    if not any(unqueued_ids(shop_id, kind).exists() for kind in imported):
        return 0, 0
    mark_store_syncing(configuration, True)
    created = []
    for kind in imported:
        created.extend(record_existing(shop_id, kind, progress=progress))
    check_batches(shop_id, report=report, progress=progress)
    return sum(batch.rows for batch in created), len(created)


def start_apart(shop_id, report=None, progress=None):
    """Record the objects never sent of the kinds synced apart from the import (``SYNC_EXISTING = APART``: coupon
    campaigns) and submit their batches (promos: rules, then codes); returns how many. Apart from :func:`start`:
    a promo rule triggers no order e-mail, so the store need not be ``is_syncing``."""
    created = []
    for kind in kinds.synced_existing(kinds.APART):
        created.extend(record_existing(shop_id, kind, progress=progress))
    if created:
        check_batches(shop_id, report=report, progress=progress, poll=False)
    return sum(batch.rows for batch in created)


def mark_store_syncing(configuration, syncing):
    """Tell Mailchimp the store is (no longer) importing history; remembered on the configuration, so that
    the flag is cleared once the import's batches are done, also after a crash.

    The configuration is marked syncing before Mailchimp is told (carts planned from then on wait), with the
    time (``store_syncing_since``): a cart a drain had planned before and that lands while Mailchimp's store
    syncs starts no automation, so it is sent again once the import is done (:func:`finish_store_syncing`)."""
    rows = MailchimpConfiguration.objects.filter(pk=configuration.pk)
    if syncing:
        rows.filter(store_syncing=False).update(store_syncing=True, store_syncing_since=timezone.now())
    try:
        with open_session(configuration) as session:
            session.patch(store_path(configuration.store_id), {"is_syncing": syncing})
    except MailchimpError as error:
        if syncing:
            rows.update(store_syncing=False, store_syncing_since=None)
            raise BulkSyncError("Mailchimp could not be told that the store imports its history, so nothing was "
                                "imported (it would have sent order e-mails): %s" % error) from error
        raise
    if not syncing:
        rows.update(store_syncing=False, store_syncing_since=None)


def finish_store_syncing(shop_id):
    """After the last batch of an import: the store notifies and automates again, and the carts sent while it
    synced are sent again (their automation starts now)."""
    configuration = MailchimpConfiguration.objects.filter(shop_id=shop_id, store_syncing=True).first()
    if configuration is None or MailchimpBatch.objects.filter(shop_id=shop_id, status__in=BatchStatus.OPEN).exists():
        return
    if kinds.history_being_sent(shop_id):  # a re-created store's history, re-sent by the drainer
        return
    journal = Journal(shop_id)
    try:
        mark_store_syncing(configuration, False)
    except MailchimpError as error:
        journal.error("bulk.store_syncing", error)  # tried again at the next round
    else:
        journal.add("bulk.store_syncing", "The import is done: Mailchimp sends the store's order e-mails again")
        if configuration.store_syncing_since:  # due at once: the drainer's next round sends them
            kinds.import_done(shop_id, configuration.store_syncing_since)
    journal.flush()


def sendable_configuration(shop_id):
    """The shop's configuration while it may send (not paused, not throttled), else None: the drainer then
    says why (held, postponed)."""
    configuration = MailchimpConfiguration.objects.filter(shop_id=shop_id).first()
    if configuration is None or not configuration.is_active or shop_throttled_for(shop_id):
        return None
    return configuration


def split(configuration, rows, kind):
    """([(row, plan)] a batch can carry, [row] the drainer sends itself), by the plan the drainer would
    make."""
    kind_module = BY_KIND[kind]
    context = kind_module.load(configuration, rows)
    batched, one_by_one = [], []
    for row in rows:
        try:
            plan = kind_module.plan(configuration, row, context)
        except Exception:  # the drainer plans it again, and records why it cannot be sent
            logger.exception("Planning %s %s for a burst failed", kind, row.object_id)
            plan = None
        # A recovered row (a lost attempt's: a batch Mailchimp lost, a disconnect stopped, a dead worker) goes too:
        # its plan already sends what such a row must (never left out, a withdrawal sent again, the member
        # written in full), and the batch keeps it recovered (see :func:`shoop_mailchimp.sync.bursts.hand_over`).
        if getattr(plan, "batchable", False) and not still_refused(row, plan):
            batched.append((row, plan))
        else:
            one_by_one.append(row)
    return batched, one_by_one


def send_left_due(shop_id, kind, since, report=None, progress=None):
    """One more round of the import for ``kind``: its rows the import's batches left queued are sent in batches at
    once, rather than by the worker after the import. A contact whose member existed without the consent it
    carries is due again, to send the consent as a change; an order that waited for such a contact (its customer)
    goes after it. Takes only the kind's pending rows made since the import began (``since``), each
    once; a row a batch cannot carry is delivered one by one, as a burst's is. Returns the batches made."""
    report = Counter() if report is None else report
    only = Q(created_on__gte=since)
    # Rows that wait (no attempt failed): a retry after an error keeps its backoff, the worker's.
    left = list(SyncState.objects.filter(only, shop_id=shop_id, kind=kind, status=SyncStatus.PENDING,
                                         attempts=0).values_list("id", flat=True))
    if not left:
        return []
    state.requeue_ids(left, (SyncStatus.PENDING,))  # due now: an order's wait for its customer is over
    size = max(1, int(get_setting("BATCH_SIZE")))
    made = []
    for _chunk in range(-(-len(left) // size)):
        configuration = sendable_configuration(shop_id)
        rows = state.claim(shop_id=shop_id, limit=size, kind=kind, only=only & Q(id__in=left)) if (
            configuration) else []
        if not rows:
            break
        try:
            batched, one_by_one = split(configuration, rows, kind)
            batch = None
            if batched:
                token = uuid.uuid4().hex
                with transaction.atomic():
                    handed = state.hand_over([row for row, _plan in batched], token,
                                             get_setting("BATCH_LEASE_SECONDS"))
                    batch = MailchimpBatch.objects.create(
                        shop_id=shop_id, kind=kind, origin=BatchOrigin.IMPORT, token=token, rows=len(handed),
                        sent=recovered_marks(row for row, _plan in batched if row.id in handed))
                state.release([row for row, _plan in batched if row.id not in handed])
        except Exception:
            state.release(rows)
            raise
        if batch is not None:
            made.append(batch)
            if progress:
                progress("recorded", batch)
            check_batches(shop_id, report=report, progress=progress, plans={batch.pk: batched}, poll=False)
        if one_by_one:
            ShopDelivery(shop_id, report).deliver(one_by_one)
    return made


def sync_existing(shop_id, include_orders=False, wait=True, poll_interval=None, timeout=None, progress=None):
    """The whole bulk sync: record, submit, then wait for every open batch; returns a Counter. What its batches left
    queued (a contact's first send that read the member first, then an order that waited for it) goes in one more
    round of batches per kind (:func:`send_left_due`), waited for too: the import leaves nothing it recorded queued
    for the worker."""
    report = Counter()
    since = timezone.now()
    deadline = None if timeout is None else time.monotonic() + timeout
    start(shop_id, include_orders=include_orders, report=report, progress=progress)
    start_apart(shop_id, report=report, progress=progress)
    remaining = resume_batches(shop_id, wait=wait, poll_interval=poll_interval, timeout=timeout, report=report,
                               progress=progress)
    imported = kinds.synced_existing(kinds.IN_IMPORT, kinds.HISTORY) if include_orders else kinds.synced_existing(
        kinds.IN_IMPORT)
    for kind in imported:
        if remaining or not wait or not send_left_due(shop_id, kind, since, report=report, progress=progress):
            continue
        left = None if deadline is None else max(0, deadline - time.monotonic())
        remaining = resume_batches(shop_id, wait=wait, poll_interval=poll_interval, timeout=left, report=report,
                                   progress=progress)
    if remaining:
        report["batches still open"] = remaining
    else:
        finish_store_syncing(shop_id)
    return report


def batch_progress(shop_id):
    """Counts for the status page: open and finished batches, the rows they hold, and how far the current
    run is (``percent``, see :func:`run_percent`)."""
    rows = MailchimpBatch.objects.filter(shop_id=shop_id)
    open_batches = rows.filter(status__in=BatchStatus.OPEN)
    return {
        "percent": run_percent(rows, open_batches),
        "open": open_batches.count(),
        "submitted": open_batches.filter(status=BatchStatus.SUBMITTED).count(),
        "done": rows.filter(status=BatchStatus.DONE).count(),
        "open_rows": sum(open_batches.values_list("rows", flat=True)),
        "burst_rows": sum(open_batches.filter(origin=BatchOrigin.BURST).values_list("rows", flat=True)),
        "finished_operations": sum(open_batches.values_list("finished_operations", flat=True)),
        "operations": sum(open_batches.values_list("operations", flat=True)),
    }


def run_percent(batches, open_batches):
    """How far the current run is: the open batches and those finished since the run began,
    weighed by their rows; each counts its phases done and the share Mailchimp finished of the one it runs.
    Moving on to the next phase or finishing never takes it back (a sum over open batches' operations did).
    None when no batch is open."""
    started = open_batches.aggregate(started=Min("created_on"))["started"]
    if started is None:
        return None
    # The run began with its first batch: one that finished after an open one was made belongs to it too,
    # however early it was made (a run's first batches finish first).
    while True:
        earlier = batches.filter(finished_on__gte=started, created_on__lt=started).aggregate(
            started=Min("created_on"))["started"]
        if earlier is None:
            break
        started = earlier
    done = total = 0.0
    for kind, phase, status, rows, operations, finished in batches.filter(created_on__gte=started).values_list(
            "kind", "phase", "status", "rows", "operations", "finished_operations"):
        if status in BatchStatus.OPEN:
            running = finished / operations if status == BatchStatus.SUBMITTED and operations else 0
            share = (phase + min(running, 1)) / len(BY_KIND[kind].BATCH_PHASES)
        else:
            share = 1
        done += rows * share
        total += rows
    return int(100 * done / total) if total else 0
