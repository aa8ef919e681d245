"""Incremental drain with DRAIN_CONCURRENCY=10 vs one by one, with 100 ms latency per request.

The ceiling is 10 requests in flight / 0.1 s = 100 requests/s. The sequential side is measured on a
sample (2,000 contacts one by one would take 2,000 x 2 requests x 0.1 s = 400 s). The emulator runs
in a process of its own, as Mailchimp would; BENCH_EMULATOR_IN_PROCESS=1 keeps it in this one.
"""
import os
import sys

from common import (
    MISSED,
    RemoteEmulator,
    configure_shop,
    insert_people,
    ratio_line,
    setup_django,
    size,
    start_emulator,
    timed,
)

LATENCY = 0.1
CONTACTS = size("BENCH_CONCURRENCY_CONTACTS", 2000, 200)
SEQUENTIAL_SAMPLE = size("BENCH_SEQUENTIAL_SAMPLE", 20, 10)
CONCURRENCY = 10


def create_people(prefix, count):
    """People with consent, each recorded as changed (as their saves would record them)."""
    from shuup.testing.factories import get_default_shop

    from shoop_mailchimp.models import SyncKind
    from shoop_mailchimp.sync import state

    ids = insert_people(count, prefix + ".", first_name=prefix + "%d")
    state.record(get_default_shop().pk, SyncKind.CONTACT, ids)
    return ids


def measure(emulator, settings, concurrency):
    """Drain everything pending; returns (seconds, requests, contacts synced, max in flight)."""
    from shoop_mailchimp.sync.drainer import drain

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DRAIN_CONCURRENCY=concurrency)
    emulator.clear_requests()
    emulator.reset_stats()
    seconds, report = timed(drain)
    requests = emulator.requests
    service = sum(request["duration"] for request in requests) / len(requests)
    stats = emulator.stats
    return seconds, len(requests), report["contact synced"], stats["max_in_flight"], service, stats["connections"]


def main():
    setup_django()
    from django.conf import settings

    from shoop_mailchimp.models import SyncState
    from shoop_mailchimp.sync import drainer

    if os.environ.get("BENCH_SWITCH_INTERVAL"):
        # The interpreter's switch interval while the drain runs (drainer.SWITCH_INTERVAL, 0.0005 s); 0.005,
        # Python's default, leaves it as it is: the drain as it ran before SWITCH_INTERVAL.
        drainer.SWITCH_INTERVAL = float(os.environ["BENCH_SWITCH_INTERVAL"])
        print("SWITCH_INTERVAL %g s" % drainer.SWITCH_INTERVAL)

    if os.environ.get("BENCH_EMULATOR_IN_PROCESS"):
        emulator, api_key, list_id = start_emulator()
    else:
        from shoop_mailchimp.testing.emulator import DEMO_API_KEY, DEMO_LIST_ID

        emulator, api_key, list_id = RemoteEmulator(), DEMO_API_KEY, DEMO_LIST_ID
    configure_shop(emulator, api_key, list_id, delivery="worker")
    create_people("warm", 10)
    measure(emulator, settings, 1)  # the default group's interest, connections, caches
    ok = True

    emulator.faults.latency(LATENCY)
    figures = {}
    for name, prefix, count, concurrency in (
        ("one by one, %d contacts" % SEQUENTIAL_SAMPLE, "seq", SEQUENTIAL_SAMPLE, 1),
        ("DRAIN_CONCURRENCY=%d, %d contacts" % (CONCURRENCY, CONTACTS), "conc", CONTACTS, CONCURRENCY),
    ):
        create_people(prefix, count)
        seconds, requests, synced, in_flight, service, connections = measure(emulator, settings, concurrency)
        assert synced == count and not SyncState.objects.exclude(status="synced").exists(), "a contact was lost"
        figures[concurrency] = requests / seconds
        print("%-44s %6.1f s  %5d requests  %6.1f requests/s  max in flight %d  mean request %.0f ms  "
              "%d connections" % (name, seconds, requests, requests / seconds, in_flight, service * 1000,
                                  connections))
        if concurrency > 1:
            ok &= ratio_line("max requests in flight (per-key cap)", in_flight, 10, unit="")
            # The latency is the emulator's sleep; its own handling (spec validation) comes on top.
            print("%-62s %8.2f" % ("requests/s / (10 / mean request time at the emulator)",
                                   figures[concurrency] / (CONCURRENCY / service)))
    ok &= ratio_line("concurrent drain: requests/s (limit 10 / %.1f s = 100)" % LATENCY, figures[CONCURRENCY], 95,
                     unit="", lower_is_better=False)
    print("%-62s %8.2fx" % ("concurrent / one by one", figures[CONCURRENCY] / figures[1]))
    emulator.stop()
    sys.exit(0 if ok else MISSED)


if __name__ == "__main__":
    main()
