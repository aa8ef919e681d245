"""Counters the reliability tests update; the summary plugin prints them at the end of the run."""
from collections import Counter

FIGURES = Counter()

SUMMARY = (
    "reliability: {faults} faults injected, {failed} requests failed, {lost} contacts lost, "
    "{violations} consent violations, {bad_inputs} bad inputs tried"
)


def tally(name, count=1):
    FIGURES[name] += count


CHAOS = (
    "; chaos on PostgreSQL: {edits} edits, {unsubscribes} Mailchimp-side unsubscribes, {kills} worker kills, "
    "{stale} stale"
)


RECONCILE_CHAOS = "; {lost} unsubscribes whose webhook was lost repaired by reconciliation"


def summary_line():
    line = SUMMARY.format(
        faults=FIGURES["faults"],
        failed=FIGURES["requests_failed"],
        lost=FIGURES["contacts_lost"],
        violations=FIGURES["consent_violations"],
        bad_inputs=FIGURES["bad_inputs"],
    )
    if FIGURES["chaos_runs"]:
        line += CHAOS.format(edits=FIGURES["chaos_edits"], unsubscribes=FIGURES["chaos_unsubscribes"],
                             kills=FIGURES["chaos_kills"], stale=FIGURES["chaos_stale"])
    if FIGURES["reconcile_chaos_runs"]:
        line += RECONCILE_CHAOS.format(lost=FIGURES["reconcile_chaos_lost_webhooks"])
    return line
