"""What became of one row's delivery, and the one classification of errors every path uses."""
import enum
import traceback
from dataclasses import dataclass, field
from typing import Optional

from shoop_mailchimp.mailchimp import errors
from shoop_mailchimp.mailchimp.errors import MailchimpAPIError, MailchimpError
from shoop_mailchimp.mailchimp.limits import LimiterUnavailable
from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync.backoff import retry_delay


class Result(enum.Enum):
    #: Mailchimp holds what the shop asked for.
    SYNCED = "synced"
    #: Nothing changed since the last send: no request was made.
    UNCHANGED = "unchanged"
    #: There is nothing Mailchimp could take (no e-mail, the object is gone).
    SKIPPED = "skipped"
    #: Mailchimp refused it, or it cannot be sent; the shop must fix something, then resend.
    FAILED = "failed"
    #: A passing problem: tried again after a backoff, and failed after too many attempts.
    RETRY = "retry"
    #: The object is gone on both sides: the row is deleted.
    REMOVED = "removed"
    #: Mailchimp asked us to slow down: the shop's round stops and every worker waits ``delay``.
    THROTTLED = "throttled"
    #: The key, the audience or the store is unusable: the shop pauses until an admin repairs it.
    ACCOUNT_PROBLEM = "account problem"


#: Results that stop the whole shop's round instead of closing the one row.
SHOP_STOPS = (Result.THROTTLED, Result.ACCOUNT_PROBLEM)
#: Results a row is closed with as sent.
SENT = (Result.SYNCED, Result.UNCHANGED)
#: What :func:`shoop_mailchimp.sync.state.close` returns for a row it deleted (``Result.REMOVED`` of a row nothing
#: changed while it was out): no :class:`~shoop_mailchimp.models.SyncStatus`, the row is no more. Beside the
#: statuses a close returns (a ``SyncStatus`` value, or None when the row is no longer the claim's).
ROW_DELETED = "row deleted"


@dataclass
class Outcome:
    result: Result
    #: One plain sentence for the shop owner (what happened); the technical detail is in ``error``.
    reason: str = ""
    #: What Mailchimp holds now, recorded on the row when it closes as synced (or unchanged).
    facts: dict = field(default_factory=dict)
    #: Technical detail for the log entry and the row: status, problem JSON, request, traceback.
    error: Optional[dict] = None
    #: THROTTLED: seconds to wait. RETRY: the attempts after which it fails (None: MAX_ATTEMPTS).
    delay: Optional[float] = None
    max_attempts: Optional[int] = None
    #: Other rows to send again because of this one: [(kind, object ids, only those already sent)].
    requeue: list = field(default_factory=list)
    #: Other rows Mailchimp turned out to lack although the shop holds them sent (a product deleted in Mailchimp
    #: that an order names): [(kind, object ids)], sent again as never sent (``state.resend_as_new``).
    resend_as_new: list = field(default_factory=list)
    #: What the send taught the shop besides the row's own facts, recorded in turn as the row closes (whatever
    #: becomes of the row): objects whose ``remember(configuration)`` writes each (a group's interest as Mailchimp
    #: now has it, :class:`~shoop_mailchimp.sync.kinds.group.InterestChange`). The plan itself only reads.
    learnt: list = field(default_factory=list)
    #: The send found the person unsubscribed in Mailchimp: the shop's consent is withdrawn too.
    withdraw_consent: bool = False
    #: FAILED: the key of what was refused (the plan's), so that the same data is not sent again.
    refused_fingerprint: str = ""
    #: FAILED without a request: the same data Mailchimp refused before (no new log entry).
    repeated: bool = False
    #: RETRY that waits for another row (an order for its customer's contact, which a batch may hold for
    #: minutes): no attempt is used up, so it never fails for waiting.
    waits: bool = False
    #: RETRY of a passing failure (Mailchimp down, a timeout) of what must reach Mailchimp whatever the outage (a
    #: cart's delete: a cart left there gets its abandoned-cart e-mail for a basket that was bought): attempts
    #: count (the backoff grows to RETRY_MAX_DELAY), but it is never given up.
    persists: bool = False
    #: RETRY after a write whose answer never came (:func:`~shoop_mailchimp.mailchimp.errors.may_have_written`): it
    #: may have changed Mailchimp, so the row's next claim takes it as recovered, as a dead worker's
    #: (:func:`~shoop_mailchimp.sync.state.close` keeps its token).
    in_doubt: bool = False

    @classmethod
    def synced(cls, **facts):
        return cls(Result.SYNCED, facts=facts)

    @classmethod
    def unchanged(cls, **facts):
        """``facts``: what the row learnt without a request (when its contact's tags were last compared)."""
        return cls(Result.UNCHANGED, facts=facts)

    @classmethod
    def skipped(cls, reason):
        return cls(Result.SKIPPED, reason)

    @classmethod
    def failed(cls, reason, error=None):
        return cls(Result.FAILED, reason, error=error)

    @classmethod
    def still_refused(cls, row):
        """The row's data is what Mailchimp refused last time: it stays failed, with the same reason."""
        return cls(Result.FAILED, row.last_error, error=row.last_error_data,
                   refused_fingerprint=row.refused_fingerprint, repeated=True)

    @classmethod
    def removed(cls):
        return cls(Result.REMOVED)

    def report_word(self, status):
        """The word every report (the drainer's, a batch's) counts this outcome under, given the status its row
        was closed with: a retry is "retried" while its row waits for the next attempt, and "failed" once it
        gave up (the row closed as failed); a removal is "removed" once its row is deleted, and "requeued" when a
        change recorded while the row was out gave it back as pending (its newer state is planned next)."""
        if self.result == Result.RETRY:
            return "failed" if status == SyncStatus.FAILED else "retried"
        if self.result == Result.REMOVED and status != ROW_DELETED:
            return "requeued"
        return self.result.value

    def log_entry(self, status):
        """``(action suffix, message, final)`` of the log entry a closed row gets, by the one rule every path
        follows, or None: a refusal or a retry that gave up is final (an error: it needs the owner), a retry
        tried again by itself and an item not sent are warnings; what was sent, unchanged or removed, and the
        same refusal again, are not logged here."""
        if self.result not in (Result.FAILED, Result.RETRY, Result.SKIPPED) or self.repeated:
            return None
        if self.result == Result.SKIPPED:
            return "skip", "Not sent: %s" % self.reason, False
        if self.report_word(status) == "failed":
            return "sync", self.reason, True
        return "sync", "%s (tried again by itself)" % self.reason, False


#: Unexpected exceptions (our bugs, odd data) are tried this many times, then the row fails.
UNEXPECTED_ATTEMPTS = 3


def classify(error):
    """The Outcome of ``error`` raised while sending one row. The caller decides what is account-level:
    a 404 only means the addressed item is missing unless the audience or store itself is gone."""
    if isinstance(error, LimiterUnavailable):
        return Outcome(Result.THROTTLED, str(error), error=error.as_log_data(), delay=retry_delay(1))
    if errors.is_rate_limited(error):
        return Outcome(Result.THROTTLED, "Mailchimp asked to slow down (too many requests).",
                       # Mailchimp sends no Retry-After: the first step of the retry backoff.
                       error=error.as_log_data(), delay=retry_delay(1))
    if errors.is_auth_problem(error):
        return Outcome(Result.ACCOUNT_PROBLEM, str(error), error=error.as_log_data())
    if isinstance(error, MailchimpError):
        reason = plain_reason(error)
        if errors.is_transient(error):
            return Outcome(Result.RETRY, reason, error=error.as_log_data(), in_doubt=errors.may_have_written(error))
        return Outcome(Result.FAILED, reason, error=error.as_log_data())
    details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return Outcome(
        Result.RETRY,
        "An unexpected error stopped the delivery (%s: %s); it is tried again a few times, then reported as "
        "failed." % (error.__class__.__name__, error),
        error={"exception": error.__class__.__name__, "traceback": details[-8000:]},
        max_attempts=UNEXPECTED_ATTEMPTS,
    )


def plain_reason(error):
    """Mailchimp's own words without the request line: what the shop owner reads first."""
    if isinstance(error, MailchimpAPIError):
        text = " ".join(part for part in (error.title + ":" if error.title else "", error.detail) if part)
        if error.field_errors:
            text += " (" + "; ".join(error.field_errors) + ")"
        return text or str(error)
    return error.message or str(error)
