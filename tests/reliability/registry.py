"""Counters the reliability tests update; the summary plugin prints them at the end of the run."""
from collections import Counter

FIGURES = Counter()

SUMMARY = (
    "reliability: {faults} faults injected, {failed} requests failed, {lost} contacts lost, "
    "{violations} consent violations, {bad_inputs} bad inputs tried"
)


def add(name, count=1):
    FIGURES[name] += count


def summary_line():
    return SUMMARY.format(
        faults=FIGURES["faults"],
        failed=FIGURES["requests_failed"],
        lost=FIGURES["contacts_lost"],
        violations=FIGURES["consent_violations"],
        bad_inputs=FIGURES["bad_inputs"],
    )
