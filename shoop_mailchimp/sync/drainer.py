"""Draining the queue: claim due rows, plan each by its kind, send, close each row with its Outcome.

Data flows one way: :mod:`~shoop_mailchimp.sync.state` (claim) → :mod:`~shoop_mailchimp.sync.kinds`
(plan) → :mod:`~shoop_mailchimp.sync.transport.direct` (HTTP) → :mod:`~shoop_mailchimp.sync.state`
(close). Only this module decides what stops a shop: a throttle holds it back for every worker, an
account problem (key refused, audience or store gone) pauses it until an admin repairs it; anything
else stays with the one row.
"""
import logging
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from django.utils.translation import ugettext as _

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.journal import Journal
from shoop_mailchimp.mailchimp import errors
from shoop_mailchimp.mailchimp.errors import MailchimpError
from shoop_mailchimp.mailchimp.limits import shop_throttled_for, throttle_shop
from shoop_mailchimp.mailchimp.resources import get_or_none, list_path, store_path
from shoop_mailchimp.mailchimp.transport import open_session
from shoop_mailchimp.models import LogKind, MailchimpConfiguration
from shoop_mailchimp.sync import kinds, state
from shoop_mailchimp.sync.kinds import BY_KIND, KINDS, sends_concurrently
from shoop_mailchimp.sync.outcome import SHOP_STOPS, Outcome, Result, classify
from shoop_mailchimp.sync.transport.direct import execute

logger = logging.getLogger(__name__)

#: Sends queued per sending thread during a concurrent drain (each is two requests: 0.2 s at 100 ms latency).
QUEUED_SENDS_PER_THREAD = 4
#: Seconds a thread may hold the interpreter lock while a sending thread waits, during a concurrent drain.
SWITCH_INTERVAL = 0.0005
#: A claim's lease is renewed once this share of LEASE_SECONDS passed since its last renewal: well before it
#: could end, however slow the sends.
RENEW_LEASE_AFTER = 1 / 3
#: Rows planned per ``load``: loading costs far more than claiming, and the sends start after the first slice.
LOAD_SLICE = 50


class ShopStopped(Exception):
    """The shop's round ends here: the rows still claimed go back to the queue."""

    def __init__(self, outcome):
        super().__init__(outcome.reason)
        self.outcome = outcome


class SendingStopped(Exception):
    """The shop no longer sends (disconnected, paused, "Send changes" unticked, held by the staging guard) while
    a round sends its rows: the round ends, and the rows it claimed and has not sent go back to the queue, pending
    for when the shop sends again."""


def sends_now(shop_id):
    """Whether the shop sends, read afresh (:attr:`MailchimpConfiguration.is_active`): a round checks it before
    each claim and each slice it sends, as a burst does before each chunk."""
    configuration = MailchimpConfiguration.objects.filter(shop_id=shop_id).select_related("shop").first()
    return configuration is not None and configuration.is_active


def drain_concurrency():
    return max(1, min(get_setting("DRAIN_CONCURRENCY"), get_setting("MAX_CONNECTIONS")))


def claim_limit():
    # Each sending thread gets a chunk's worth, so threads rarely wait for the next claim.
    return get_setting("DRAIN_CHUNK") * drain_concurrency()


def drain(shop_id=None, max_rounds=None):
    """Deliver everything due; returns a Counter like {"contact synced": 2, "order failed": 1}.

    A round is one claim; ``max_rounds`` bounds how many a call makes (claims of more contacts
    while the last ones are being sent count too).
    """
    report = Counter()
    rounds = 0

    def rounds_left():
        return max_rounds is None or rounds < max_rounds

    def claim_more(row_shop_id, kind):
        nonlocal rounds
        if not rounds_left():
            return []
        rounds += 1
        return state.claim(shop_id=row_shop_id, limit=claim_limit(), kind=kind)

    while rounds_left():
        rows = state.claim(shop_id=shop_id, limit=claim_limit())
        if not rows:
            break
        rounds += 1
        by_shop = defaultdict(list)
        for row in rows:
            by_shop[row.shop_id].append(row)
        progressed = False
        for row_shop_id, shop_rows in by_shop.items():
            progressed |= ShopDelivery(row_shop_id, report).deliver(shop_rows, claim_more)
        if not progressed:
            break
    return report


class ShopDelivery:
    """One shop's round: its configuration, session and journal, and the rows it holds."""

    def __init__(self, shop_id, report):
        self.shop_id = shop_id
        self.report = report
        self.configuration = MailchimpConfiguration.objects.filter(shop_id=shop_id).first()
        self.journal = Journal(shop_id)
        self.session = None
        self.held = {}  # {row id: row} claimed and not closed yet
        #: Held rows a send's lesson changed after they were claimed (another contact's withdrawal unsubscribed their
        #: address): given back unsent, and planned afresh by the next round.
        self.taught_row_ids = set()
        self._account_checked = False
        #: Whether the shop's sending is read again before the next slice (not before the first: ``deliver`` has
        #: just read it).
        self._recheck = False
        self._lease_renewed_at = time.monotonic()

    def deliver(self, rows, claim_more=None):
        """Deliver the claimed rows; returns whether any row was closed."""
        configuration = self.configuration
        if configuration is None or not configuration.is_active:
            state.release(rows)
            self.report["held"] += len(rows)
            return False
        throttled_for = shop_throttled_for(self.shop_id)
        if throttled_for:
            # Mailchimp throttled this shop (in this or another worker): wait as long as it asked.
            state.release(rows, delay=throttled_for)
            self.report["postponed"] += len(rows)
            return False
        self.held = {row.id: row for row in rows}
        try:
            self.session = open_session(configuration)
            for kind_module in KINDS:
                kind_rows = [row for row in self.held.values() if row.kind == kind_module.KIND]
                if not kind_rows:
                    continue
                if sends_concurrently(kind_module) and drain_concurrency() > 1:
                    self._deliver_concurrently(kind_module, kind_rows, claim_more)
                else:
                    self._deliver_one_by_one(kind_module, kind_rows)
        except ShopStopped as stopped:
            self._stop(stopped.outcome)
        except SendingStopped:
            held, self.held = list(self.held.values()), {}
            state.release(held)  # pending, untried: sent when the shop sends again
            self.report["held"] += len(held)
        except MailchimpError as error:  # the key cannot even make a session
            self._stop(classify(error))
        finally:
            self.journal.flush()
            if self.session is not None:
                self.session.close()
        return True

    # Sending ------------------------------------------------------------------------------------------

    def _slices(self, kind_module, rows):
        """(row, plan or Outcome) pairs, loading what planning needs a slice at a time: loading costs far
        more than claiming, and sends start after the first slice."""
        for start in range(0, len(rows), LOAD_SLICE):
            self._check_sending()
            rows_slice = rows[start:start + LOAD_SLICE]
            context = kind_module.load(self.configuration, rows_slice)
            for row in rows_slice:
                try:
                    plan = kind_module.plan(self.configuration, row, context)
                    if still_refused(row, plan):
                        plan = Outcome.still_refused(row)  # what Mailchimp refused for good, unchanged
                    yield row, plan
                except Exception as error:
                    logger.exception("Planning %s %s failed", row.kind, row.object_id)
                    yield row, classify(error)

    def _check_sending(self, now=False):
        """Raise :class:`SendingStopped` when the shop no longer sends: one read per slice (or claim), not per row.
        The first slice of the round goes by what ``deliver`` read, unless ``now``."""
        if (self._recheck or now) and not sends_now(self.shop_id):
            raise SendingStopped()
        self._recheck = True

    def _send(self, row, plan):
        """The HTTP part: safe in a worker thread, it writes nothing to the database but log entries."""
        target = BY_KIND[row.kind].log_target(row.object_id)

        def log(action, message, kind=LogKind.INFO, extra=None):
            self.journal.add(action, message, kind=kind, extra=extra, **target)

        try:
            return execute(self.session, plan, log)
        except Exception as error:
            if not isinstance(error, MailchimpError):
                logger.exception("Unexpected error delivering %s %s", row.kind, row.object_id)
            outcome = self._scoped(classify(error), error)
            if outcome.result == Result.FAILED and isinstance(error, MailchimpError):
                outcome.refused_fingerprint = getattr(plan, "refusal_key", "")
            outcome.facts = dict(getattr(plan, "written", {}))  # what a member write before the error changed
            outcome.learnt.extend(getattr(plan, "learnt", ()))  # and what it taught (remembered whatever happens)
            return outcome

    def _scoped(self, outcome, error):
        """A 404 stops the shop only if the audience or the store itself is gone; else it is the row's."""
        if not errors.is_not_found(error) or self._account_checked:
            return outcome
        self._account_checked = True
        return account_gone(self.session, self.configuration, outcome.error) or outcome

    def _still_held(self, row):
        """Whether the row may still be sent by this round: the lease is renewed well before it could end
        (``RENEW_LEASE_AFTER``), and a row another worker took after a lapse is dropped unsent."""
        lease = get_setting("LEASE_SECONDS")
        if time.monotonic() - self._lease_renewed_at > lease * RENEW_LEASE_AFTER:
            kept = state.renew_lease(self.held.values(), lease)
            self._lease_renewed_at = time.monotonic()
            for lost in set(self.held) - kept:
                del self.held[lost]
        if row.id in self.taught_row_ids and row.id in self.held:
            self.taught_row_ids.discard(row.id)  # claimed again (a later chunk), it is planned afresh
            state.release([self.held.pop(row.id)])
            return False
        return row.id in self.held

    def _note(self, row, plan):
        """What the plan's row must know should this send never end (a move's address): written before it starts,
        in this thread (a sending thread writes nothing but log entries)."""
        noted = getattr(plan, "noted_before_sending", None)
        if noted:
            state.note_before_sending(row, noted)

    def _deliver_one_by_one(self, kind_module, rows):
        for row, plan in self._slices(kind_module, rows):
            if not self._still_held(row):
                continue
            if isinstance(plan, Outcome):
                self._close(row, plan)
            else:
                self._note(row, plan)
                self._close(row, self._send(row, plan))

    def _deliver_concurrently(self, kind_module, rows, claim_more):
        """Send a kind's rows (contacts) in DRAIN_CONCURRENCY threads; plan and close each row here, as it finishes.

        Only the HTTP calls run in the threads; every database write but the log stays in this one.
        As its last rows start sending, the next chunk of the kind's due rows is claimed, so that the threads
        never wait for a claim.
        """
        concurrency = drain_concurrency()

        def sends():
            chunk = rows
            while chunk:
                for row, plan in self._slices(kind_module, chunk):
                    if not self._still_held(row):
                        continue
                    if isinstance(plan, Outcome):
                        self._close(row, plan)
                    else:
                        yield row, plan
                if not claim_more:
                    break
                self._check_sending(now=True)  # no claim for a shop that stopped sending meanwhile
                chunk = claim_more(self.shop_id, kind_module.KIND)
                self.held.update((row.id, row) for row in chunk)
                self.journal.flush()  # a long drain writes its log entries chunk by chunk

        waiting = sends()
        running = {}
        #: Planned sends whose address a running send reads or writes (``plan.addresses``): each starts after it.
        parked = []

        def next_send():
            """The next (row, plan) to start, or (None, None) when none may start now."""
            busy = set().union(*(addresses(plan) for _row, plan in running.values()))
            for index, (row, plan) in enumerate(parked):
                if not addresses(plan) & busy:
                    del parked[index]
                    if self._still_held(row):  # a send that ended meanwhile may have taught it something
                        return row, plan
                    return next_send()
            for row, plan in waiting:
                if not addresses(plan) & busy:
                    return row, plan
                parked.append((row, plan))
            return None, None

        stop = None
        # A sending thread whose answer came waits for the interpreter lock while this thread plans and closes
        # rows; Python hands it over every 5 ms by default, a twentieth of a request at Mailchimp's latency.
        # (Process-wide while the drain lasts; a drain running inside another leaves it to the outer one.)
        switch_interval = sys.getswitchinterval()
        if switch_interval > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)
        try:
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                while True:
                    # Sends queued ahead: no thread waits while rows are closed, or while the next chunk is
                    # claimed and its log entries written (a chunk of 1,000 took up to 200 ms on SQLite).
                    while stop is None and len(running) < QUEUED_SENDS_PER_THREAD * concurrency:
                        try:
                            row, plan = next_send()
                        except SendingStopped as stopped:
                            stop = stopped  # the sends already running finish, and their rows close
                            break
                        if row is None:
                            break
                        self._note(row, plan)
                        running[pool.submit(self._send, row, plan)] = row, plan
                    if stop is not None:
                        # Queued sends that have not started stay unsent: their rows are released.
                        for future in [future for future in running if future.cancel()]:
                            running.pop(future)
                        parked.clear()
                    if not running:
                        break
                    finished, _unused = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        try:
                            self._close(running.pop(future)[0], future.result())
                        except ShopStopped as stopped:
                            # A throttle or an account problem a send met outranks a shop that stopped sending.
                            stop = stop if isinstance(stop, ShopStopped) else stopped
        finally:
            if switch_interval > SWITCH_INTERVAL:
                sys.setswitchinterval(switch_interval)
        if stop is not None:
            raise stop

    # Closing ------------------------------------------------------------------------------------------

    def _remember(self, outcome):
        """What the send taught the shop, whatever becomes of the row; rows of this round it changed are not sent
        with the plans made before (see :attr:`taught_row_ids`)."""
        for learnt in outcome.learnt:
            self.taught_row_ids.update(learnt.remember(self.configuration) or ())

    def _close(self, row, outcome):
        if outcome.result in SHOP_STOPS:
            self._remember(outcome)
            if outcome.facts:  # the member was written before the stop: the row keeps what Mailchimp holds
                state.close(row, Outcome(Result.RETRY, outcome.reason, facts=outcome.facts, waits=True))
                del self.held[row.id]
            raise ShopStopped(outcome)
        self._remember(outcome)
        status = state.close(row, outcome)
        del self.held[row.id]
        kinds.after_close(BY_KIND[row.kind], row, outcome, status, self.journal)
        for kind, object_ids, only_known in outcome.requeue:
            # Rows held in this round and not planned yet will be planned with the new state anyway.
            held = {held_row.object_id for held_row in self.held.values() if held_row.kind == kind}
            state.requeue(self.shop_id, kind, set(object_ids) - held, only_known=only_known)
        for kind, object_ids in outcome.resend_as_new:
            state.resend_as_new(self.shop_id, kind, object_ids)
        report_close(self.journal, self.report, row, outcome, status)

    def _stop(self, outcome):
        """Give back every row still held; pause the shop as the outcome says."""
        held, self.held = list(self.held.values()), {}
        stop_shop(self.configuration, outcome, self.journal)
        if outcome.result == Result.THROTTLED:
            state.release(held, delay=outcome.delay)
            self.report["postponed"] += len(held)
            self.journal.add("sync.throttled", _("Mailchimp asked to slow down: sending is held back until its "
                                                 "retry time, about %d seconds from now.") % outcome.delay,
                             kind=LogKind.WARNING, extra=outcome.error)
        else:
            state.release(held)
            self.report["held"] += len(held)


def addresses(plan):
    """The addresses a plan's send reads or writes (a contact's), which no other send may touch meanwhile."""
    return getattr(plan, "addresses", set())


def report_close(journal, report, row, outcome, status):
    """Count a closed row in the report and log it, by :meth:`Outcome.report_word` and
    :meth:`Outcome.log_entry`: the one rule of the one-by-one path and the batches."""
    report["%s %s" % (row.kind, outcome.report_word(status))] += 1
    entry = outcome.log_entry(status)
    if entry is not None:
        action, message, final = entry
        journal.add("%s.%s" % (row.kind, action), message, kind=LogKind.ERROR if final else LogKind.WARNING,
                    extra=outcome.error, **BY_KIND[row.kind].log_target(row.object_id))


def still_refused(row, plan):
    """Whether the plan asks again what Mailchimp refused for good, unchanged: then it is not sent."""
    return bool(row.refused_fingerprint) and getattr(plan, "refusal_key", None) == row.refused_fingerprint


def account_gone(session, configuration, error=None):
    """After a 404: the ACCOUNT_PROBLEM Outcome when the audience or the store itself is gone (two cheap
    GETs), the Outcome of the check's own error, or None when both are there (the 404 was the item's)."""
    try:
        if get_or_none(session, list_path(configuration.list_id), fields="id") is None:
            return Outcome(Result.ACCOUNT_PROBLEM, _(
                "The audience %(list)s no longer exists in Mailchimp. Choose an audience on the shop's "
                "Mailchimp settings and press Initialize.") % {"list": configuration.list_id}, error=error)
        if get_or_none(session, store_path(configuration.store_id), fields="id") is None:
            return Outcome(Result.ACCOUNT_PROBLEM, _(
                "The store %(store)s no longer exists in Mailchimp. Press Initialize on the shop's Mailchimp "
                "settings to create it again; every contact and order is then sent again.")
                % {"store": configuration.store_id}, error=error)
    except MailchimpError as check_error:
        return classify(check_error)
    return None


def stop_shop(configuration, outcome, journal):
    """What an Outcome in SHOP_STOPS does to the shop, whichever path met it (one by one, a batch, an admin
    job): a throttle leaves Mailchimp alone for the delay it asked, an account problem pauses the shop
    until an admin repairs the configuration. Other outcomes do nothing here."""
    if outcome.result == Result.THROTTLED:
        throttle_shop(configuration.shop_id, outcome.delay)
    elif outcome.result == Result.ACCOUNT_PROBLEM:
        pause(configuration, outcome.reason, journal, outcome.error)


def pause(configuration, reason, journal, error=None):
    """Stop sending for the shop until an admin repairs the configuration (which clears the reason)."""
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(paused_reason=reason[:2000])
    journal.add("sync.paused", _("Sending stopped until the configuration is repaired: %s") % reason,
                kind=LogKind.ERROR, extra=error)
