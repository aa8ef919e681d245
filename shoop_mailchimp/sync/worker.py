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
from shoop_mailchimp.models import LogKind, MailchimpConfiguration, SyncKind
from shoop_mailchimp.sync import contacts, groups, orders, outcomes
from shoop_mailchimp.sync.backoff import retry_delay
from shoop_mailchimp.sync.queue import claim, release

logger = logging.getLogger(__name__)

#: Groups first (interests must exist before members use them), orders last (their customer first).
KIND_ORDER = (SyncKind.GROUP, SyncKind.CONTACT, SyncKind.ORDER)


class AccountProblem(Exception):
    """Nothing can be sent for this shop until an admin repairs the configuration."""


class ShopPaused(Exception):
    """Mailchimp asked us to slow down: stop this shop's round and come back later."""

    def __init__(self, delay):
        super().__init__(delay)
        self.delay = delay


def drain_concurrency():
    return max(1, min(get_setting("DRAIN_CONCURRENCY"), get_setting("MAX_CONNECTIONS")))


def drain(shop_id=None, timeout=None, max_rounds=None):
    """Deliver everything due; returns a Counter like {"contact synced": 2, "order failed": 1}."""
    report = Counter()
    rounds = 0
    while max_rounds is None or rounds < max_rounds:
        # Each sending thread gets a chunk's worth, so threads rarely wait for the next claim.
        rows = claim(shop_id=shop_id, limit=get_setting("DRAIN_CHUNK") * drain_concurrency())
        if not rows:
            break
        rounds += 1
        by_shop = defaultdict(list)
        for row in rows:
            by_shop[row.shop_id].append(row)
        progressed = False
        for row_shop_id, shop_rows in by_shop.items():
            progressed |= deliver_shop_rows(row_shop_id, shop_rows, report, timeout=timeout)
        if not progressed:
            break
    return report


def deliver_shop_rows(shop_id, rows, report, timeout=None):
    """Deliver one shop's claimed rows; returns whether any row was closed."""
    configuration = MailchimpConfiguration.objects.filter(shop_id=shop_id).first()
    if configuration is None or not configuration.is_active:
        release(rows)
        report["held"] += len(rows)
        return False
    journal = Journal(shop_id)
    client = None
    try:
        client = build_client(configuration, timeout=timeout)
        for kind in KIND_ORDER:
            kind_rows = [row for row in rows if row.kind == kind]
            if kind_rows:
                HANDLERS[kind](client, configuration, kind_rows, journal, report)
    except (AccountProblem, InvalidAPIKey) as problem:
        pause(configuration, str(problem), journal)
        release(rows)
        report["held"] += len(rows)
    except ShopPaused as paused:
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


def deliver_contacts(client, configuration, rows, journal, report):
    loaded = contacts.load_contacts(rows)
    group_ids = contacts.load_group_ids(rows)
    interest_ids = contacts.load_interest_ids(configuration.shop_id)

    def prepare(row):
        """The row's plan, or its outcome when there is nothing to send."""
        contact = loaded.get(row.object_id)
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

    def deliver_one(row):
        if row.erase:
            return contacts.erase_contact(client, configuration, row, journal)
        prepared = prepare(row)
        return send(prepared) if isinstance(prepared, contacts.ContactPlan) else prepared

    concurrency = drain_concurrency()
    if concurrency <= 1:
        deliver_rows(rows, journal, report, deliver_one)
        return
    deliver_rows([row for row in rows if row.erase], journal, report, deliver_one)

    def plans():
        """Plans as the threads need them (planning overlaps sending); rows with nothing to send close here."""
        for row in rows:
            if row.erase:
                continue
            try:
                prepared = prepare(row)
            except Exception as error:
                close_row(row, functools.partial(_reraise, error), journal, report)
                continue
            if isinstance(prepared, contacts.ContactPlan):
                yield prepared
            else:
                close_row(row, functools.partial(tuple, prepared), journal, report)

    send_concurrently(plans(), send, concurrency, journal, report)


def _reraise(error):
    raise error


def send_concurrently(plans, send, concurrency, journal, report):
    """Run ``send(plan)`` for each plan in ``concurrency`` threads; close each row here, as it finishes.

    Only the HTTP calls run in the threads; every database write stays in this one. A rate limit or
    an account problem stops further sends: the ones in flight finish and are closed, then the
    exception reaches :func:`deliver_shop_rows`, which releases the rows still claimed.
    """
    waiting = iter(plans)
    running = {}
    stopped = None
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        while True:
            # Twice as many sends as threads are queued, so that no thread waits while rows are closed.
            while stopped is None and len(running) < 2 * concurrency:
                plan = next(waiting, None)
                if plan is None:
                    break
                running[pool.submit(send, plan)] = plan.row
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
