"""What a kind tells the batch path (:mod:`shoop_mailchimp.sync.bulk`): the phases a chunk of its rows
goes through, one Mailchimp batch each, and what its readers share.

Mailchimp does not run a batch's operations in order, so what depends on another operation goes in a
later phase of the chunk: members before their customers (a customer written first would create the
member without consent, and the member's own write could no longer add it), products before the
orders that name them.
"""
from dataclasses import dataclass
from typing import Callable

from shoop_mailchimp.mailchimp import batches
from shoop_mailchimp.sync.outcome import SHOP_STOPS, Result, classify


@dataclass(frozen=True)
class BatchPhase:
    #: ``(configuration, pairs, rows, sent)`` → encoded operations. ``pairs``: the (row, plan) of each row with
    #: something a batch can carry, when the phase ``plans`` (else None); ``sent``: {row id as text: facts},
    #: what the phase sent, kept for the next phases and the readers.
    build: Callable
    #: ``(configuration, row, {step: result}, facts)`` → the row's Outcome, or None to go on to the next phase.
    read: Callable
    #: Whether the phase needs the rows planned from the shop's data as it is now.
    plans: bool = False
    #: Whether the phase only reads, where a 404 is an answer ("Mailchimp holds none"), not a sign that the
    #: audience or the store is gone: its results are not checked for that (two GETs a chunk otherwise).
    reads: bool = False


#: Kept here for the kinds' readers: the classification itself is :func:`batches.operation_failed`.
operation_failed = batches.operation_failed


def result_outcome(result, step):
    """The Outcome of one failed operation, by the classification every path uses. A batch runs outside
    the shop's round, so what would stop the shop only postpones the row."""
    outcome = classify(batches.error_of(result))
    outcome.reason = "%s: %s" % (step, outcome.reason)
    outcome.error = dict(outcome.error, operation_id=result.get("operation_id"))
    if outcome.result in SHOP_STOPS:
        outcome.result = Result.RETRY
    return outcome
