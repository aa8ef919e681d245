"""Draining the queue: claim due rows, deliver them shop by shop, close each row.

Data flows one way: sync state (rows) → plans (payloads) → Mailchimp client.
"""
import functools
import logging
from collections import Counter, defaultdict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.journal import Journal
from shoop_mailchimp.mailchimp.client import InvalidAPIKey, build_client
from shoop_mailchimp.mailchimp.errors import (
    MailchimpAuthError,
    MailchimpError,
    MailchimpNotFound,
    MailchimpRateLimited,
)
from shoop_mailchimp.mailchimp.limits import pause_shop, shop_paused_for
from shoop_mailchimp.models import LogKind, MailchimpConfiguration, SyncKind
from shoop_mailchimp.sync import contacts, groups, orders, outcomes
from shoop_mailchimp.sync.backoff import retry_delay
from shoop_mailchimp.sync.queue import claim, release

logger = logging.getLogger(__name__)

#: Groups first (interests must exist before members use them), orders last (their customer first).
KIND_ORDER = (SyncKind.GROUP, SyncKind.CONTACT, SyncKind.ORDER)


#: Contacts loaded from the database at a time while their sends are planned.
LOAD_SLICE = 50


class AccountProblem(Exception):
    """Nothing can be sent for this shop until an admin repairs the configuration."""


class ShopPaused(Exception):
    """Mailchimp asked us to slow down: stop this shop's round and come back later."""

    def __init__(self, delay):
        super().__init__(delay)
        self.delay = delay


def drain_concurrency():
    return max(1, min(get_setting("DRAIN_CONCURRENCY"), get_setting("MAX_CONNECTIONS")))


def claim_limit():
    # Each sending thread gets a chunk's worth, so threads rarely wait for the next claim.
    return get_setting("DRAIN_CHUNK") * drain_concurrency()


def drain(shop_id=None, timeout=None, max_rounds=None):
    """Deliver everything due; returns a Counter like {"contact synced": 2, "order failed": 1}.

    A round is one claim; ``max_rounds`` bounds how many a call makes (claims of more contacts
    while the last ones are being sent count too).
    """
    report = Counter()
    rounds = 0

    def rounds_left():
        return max_rounds is None or rounds < max_rounds

    def claim_more_contacts(row_shop_id):
        nonlocal rounds
        if not rounds_left():
            return []
        rounds += 1
        return claim(shop_id=row_shop_id, limit=claim_limit(), kind=SyncKind.CONTACT)

    while rounds_left():
        rows = claim(shop_id=shop_id, limit=claim_limit())
        if not rows:
            break
        rounds += 1
        by_shop = defaultdict(list)
        for row in rows:
            by_shop[row.shop_id].append(row)
        progressed = False
        for row_shop_id, shop_rows in by_shop.items():
            progressed |= deliver_shop_rows(row_shop_id, shop_rows, report, timeout=timeout,
                                            claim_more_contacts=claim_more_contacts)
        if not progressed:
            break
    return report


def deliver_shop_rows(shop_id, rows, report, timeout=None, claim_more_contacts=None):
    """Deliver one shop's claimed rows; returns whether any row was closed.

    ``claim_more_contacts(shop_id)``, when given, lets a concurrent contact drain claim the next
    contacts while the last ones are still being sent; they join ``rows``, so a stop releases them.
    """
    configuration = MailchimpConfiguration.objects.filter(shop_id=shop_id).first()
    if configuration is None or not configuration.is_active:
        release(rows)
        report["held"] += len(rows)
        return False
    paused_for = shop_paused_for(shop_id)
    if paused_for:
        # Mailchimp throttled this shop (in this or another worker): wait as long as it asked.
        release(rows, delay=paused_for)
        report["postponed"] += len(rows)
        return False
    journal = Journal(shop_id)
    client = None

    def more_contacts():
        more = claim_more_contacts(shop_id) if claim_more_contacts else []
        rows.extend(more)
        journal.flush()  # a long drain writes its log entries chunk by chunk
        return more

    try:
        client = build_client(configuration, timeout=timeout)
        for kind in KIND_ORDER:
            kind_rows = [row for row in rows if row.kind == kind]
            if kind == SyncKind.CONTACT and kind_rows:
                deliver_contacts(client, configuration, kind_rows, journal, report, more_rows=more_contacts)
            elif kind_rows:
                HANDLERS[kind](client, configuration, kind_rows, journal, report)
    except (AccountProblem, InvalidAPIKey) as problem:
        pause(configuration, str(problem), journal)
        release(rows)
        report["held"] += len(rows)
    except ShopPaused as paused:
        pause_shop(shop_id, paused.delay)
        release(rows, delay=paused.delay)
        report["postponed"] += len(rows)
    finally:
        journal.flush()
        if client is not None:
            client.close()
    return True


def pause(configuration, reason, journal):
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(paused_reason=reason[:2000])
    journal.add("sync.paused", "Sending stopped until the configuration is repaired: %s" % reason,
                kind=LogKind.ERROR)


#: Which log entry field names the row's object.
LOG_TARGETS = {
    SyncKind.CONTACT: lambda object_id: {"contact_id": object_id},
    SyncKind.ORDER: lambda object_id: {"order_id": object_id},
    SyncKind.GROUP: lambda object_id: {},
}


def deliver_rows(rows, journal, report, deliver_one):
    """Run ``deliver_one(row)`` for each row and close it according to what happened."""
    for row in rows:
        close_row(row, functools.partial(deliver_one, row), journal, report)


def close_row(row, result, journal, report):
    """Close ``row`` according to ``result()``: what its delivery returned, or the error it raised.

    ``result`` returns ("synced", fields), ("unchanged", fields), ("skipped", reason), ("failed",
    reason) or ("removed", None): ``deliver_one`` bound to the row, or a finished send's
    ``Future.result``. Mailchimp errors are sorted here into permanent, transient, rate limits
    (:class:`ShopPaused`) and account problems (:class:`AccountProblem`); those two leave the row
    claimed, for the caller to release.
    """
    target = LOG_TARGETS[row.kind](row.object_id)
    try:
        outcome, data = result()
    except MailchimpRateLimited as error:
        journal.error("sync.throttled", error, **target)
        raise ShopPaused(retry_delay(1))
    except (MailchimpAuthError, MailchimpNotFound) as error:
        journal.error("sync.account", error, **target)
        raise AccountProblem(str(error))
    except MailchimpError as error:
        if error.transient:
            retried = outcomes.mark_retry(row, error, error.as_log_data())
            report["%s %s" % (row.kind, "retried" if retried else "failed")] += 1
        else:
            outcomes.mark_failed(row, error, error.as_log_data())
            report["%s failed" % row.kind] += 1
        journal.error("%s.sync" % row.kind, error, **target)
        return
    except (ValueError, KeyError) as error:
        # mailchimp3 refuses some payloads (an e-mail it cannot parse) before sending.
        outcomes.mark_failed(row, "Not sent: %s" % error)
        journal.add("%s.sync" % row.kind, "Not sent: %s" % error, kind=LogKind.ERROR, **target)
        report["%s failed" % row.kind] += 1
        return
    except Exception as error:
        logger.exception("Unexpected error delivering %s %s", row.kind, row.object_id)
        outcomes.mark_retry(row, "Unexpected error: %s" % error.__class__.__name__)
        journal.add("%s.sync" % row.kind, "Unexpected error: %s" % error.__class__.__name__,
                    kind=LogKind.ERROR, **target)
        report["%s retried" % row.kind] += 1
        return
    if outcome in ("skipped", "failed"):
        close_unsent(row, outcome, data, journal, report)
        return
    if outcome == "removed":
        outcomes.remove(row)
    else:
        outcomes.mark_synced(row, **(data or {}))
    report["%s %s" % (row.kind, outcome)] += 1


def close_unsent(row, outcome, reason, journal, report):
    """Close a row that was not sent: skipped (nothing to send) or failed (the shop must fix it)."""
    target = LOG_TARGETS[row.kind](row.object_id)
    if outcome == "skipped":
        outcomes.mark_skipped(row, reason)
        journal.add("%s.skip" % row.kind, "Not sent: %s" % reason, kind=LogKind.WARNING, **target)
    else:
        outcomes.mark_failed(row, reason)
        journal.add("%s.sync" % row.kind, "Not sent: %s" % reason, kind=LogKind.ERROR, **target)
    report["%s %s" % (row.kind, outcome)] += 1


def deliver_contacts(client, configuration, rows, journal, report, more_rows=None):
    """Send claimed contact rows: one by one, or with DRAIN_CONCURRENCY threads.

    ``more_rows()`` returns further claimed contact rows; a concurrent drain calls it as its last
    rows start sending, so that the threads never wait for a claim.
    """
    interest_ids = contacts.load_interest_ids(configuration.shop_id)

    def loaded_chunk(chunk):
        """The chunk's rows with their contacts and groups, loaded a slice at a time: loading a
        contact costs far more than claiming its row, and sends start after the first slice."""
        for start in range(0, len(chunk), LOAD_SLICE):
            rows_slice = chunk[start:start + LOAD_SLICE]
            loaded = contacts.load_contacts(rows_slice)
            group_ids = contacts.load_group_ids(rows_slice)
            for row in rows_slice:
                yield row, loaded.get(row.object_id), group_ids

    def prepare(row, contact, group_ids):
        """The row's plan, or its outcome when there is nothing to send."""
        problem = contacts.unsendable(contact)
        if problem:
            return problem
        plan = contacts.ContactPlan(contact, row, configuration, group_ids.get(contact.pk, set()), interest_ids)
        if plan.unchanged:
            return "unchanged", None
        return plan

    def send(plan):
        """The HTTP part alone: safe in a worker thread, it never touches the database."""
        status = contacts.send_contact(client, configuration, plan, journal)
        return "synced", {"email": plan.email, "shop_email": plan.shop_email, "opt_in": plan.permission,
                          "member_status": status,
                          "fingerprint": plan.fingerprint}

    def erase(row):
        return contacts.erase_contact(client, configuration, row, journal)

    def deliver_one(row, contact, group_ids):
        if row.erase:
            return erase(row)
        prepared = prepare(row, contact, group_ids)
        return send(prepared) if isinstance(prepared, contacts.ContactPlan) else prepared

    concurrency = drain_concurrency()
    if concurrency <= 1:
        for row, contact, group_ids in loaded_chunk(rows):
            close_row(row, functools.partial(deliver_one, row, contact, group_ids), journal, report)
        return

    def sends():
        """(row, send) pairs as the threads need them (planning overlaps sending); rows with nothing
        to send close here."""
        chunk = rows
        while chunk:
            for row, contact, group_ids in loaded_chunk(chunk):
                if row.erase:
                    yield row, functools.partial(erase, row)
                    continue
                try:
                    prepared = prepare(row, contact, group_ids)
                except Exception as error:
                    close_row(row, functools.partial(_reraise, error), journal, report)
                    continue
                if isinstance(prepared, contacts.ContactPlan):
                    yield row, functools.partial(send, prepared)
                else:
                    close_row(row, functools.partial(tuple, prepared), journal, report)
            chunk = more_rows() if more_rows else []

    send_concurrently(sends(), concurrency, journal, report)


def _reraise(error):
    raise error


def send_concurrently(sends, concurrency, journal, report):
    """Run each ``(row, send)``'s ``send()`` in ``concurrency`` threads; close each row here, as it finishes.

    Only the HTTP calls run in the threads; every database write stays in this one. A rate limit or
    an account problem stops further sends: the ones in flight finish and are closed, then the
    exception reaches :func:`deliver_shop_rows`, which releases the rows still claimed.
    """
    waiting = iter(sends)
    running = {}
    stopped = None
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        while True:
            # Twice as many sends as threads are queued, so that no thread waits while rows are closed.
            while stopped is None and len(running) < 2 * concurrency:
                row, send = next(waiting, (None, None))
                if row is None:
                    break
                running[pool.submit(send)] = row
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                try:
                    close_row(running.pop(future), future.result, journal, report)
                except (ShopPaused, AccountProblem) as stop:
                    stopped = stopped or stop
            if stopped is not None:
                # Queued sends that have not started stay unsent: their rows are released.
                for future in [future for future in running if future.cancel()]:
                    running.pop(future)
    if stopped is not None:
        raise stopped


def deliver_orders(client, configuration, rows, journal, report):
    loaded = orders.load_orders(rows)
    subscribed = orders.subscribed_customer_ids(configuration.shop_id, loaded.values())
    sent_products = set()

    def deliver_one(row):
        return orders.deliver_order(
            client, configuration, row, loaded.get(row.object_id), sent_products, journal, subscribed
        )

    deliver_rows(rows, journal, report, deliver_one)


def deliver_groups(client, configuration, rows, journal, report):
    def deliver_one(row):
        return groups.deliver_group(client, configuration, row, journal)

    deliver_rows(rows, journal, report, deliver_one)


HANDLERS = {
    SyncKind.CONTACT: deliver_contacts,
    SyncKind.ORDER: deliver_orders,
    SyncKind.GROUP: deliver_groups,
}
