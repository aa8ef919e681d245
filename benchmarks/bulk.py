"""Bulk sync of existing contacts through Mailchimp batches vs one request per contact, and a burst of
changed contacts (all added to a group) that the drainer sends through batches by itself.

The burst is timed at two paces: the background drainer's and that of ``mailchimp_sync --loop``
(``BENCH_WORKER_INTERVAL``, ``BENCH_WORKER_DELAY``: see WORKER_INTERVAL below).

Against the bundled emulator with 50 ms latency per HTTP request. The per-contact side is measured
on a sample (SAMPLE contacts through the incremental worker) and extrapolated linearly to CONTACTS.
Peak memory is measured in subprocesses (VmHWM, the peak resident size), one per size.
"""
import collections
import os
import resource
import subprocess
import sys
import time

from common import (
    MISSED,
    RemoteEmulator,
    configure_shop,
    database_name,
    insert_people,
    ratio_line,
    setup_django,
    size,
    switch_integration,
)

CONTACTS = size("BENCH_BULK_CONTACTS", 10000, 1000)
SAMPLE = size("BENCH_BULK_SAMPLE", 50, 20)
#: The smaller burst that tells a burst's fixed cost from its cost per contact.
SMALL_BURST = size("BENCH_SMALL_BURST", 1000, 100)
MEMORY_SIZES = (size("BENCH_BULK_SMALL", 10000, 1000), size("BENCH_BULK_LARGE", 50000, 2000))
LATENCY = 0.05
#: The paces of the rounds that send a burst: "drainer" (the background drainer's: a round at the commit, then
#: one every BATCH_POLL_INTERVAL while batches are open) and "worker" (``mailchimp_sync --loop --interval
#: WORKER_INTERVAL``, 5 s by default: not woken by commits, it sleeps as the command sleeps; its first round
#: WORKER_DELAY seconds after the change: WORKER_INTERVAL by default, the change falling at the start of its
#: sleep, the longest wait; 0 when it falls at the end).
WORKER_INTERVAL = float(os.environ.get("BENCH_WORKER_INTERVAL") or 5)
WORKER_DELAY = float(os.environ.get("BENCH_WORKER_DELAY") or WORKER_INTERVAL)


def create_contacts(count, prefix):
    """Contacts as in a shop that predates the integration: inserted in bulk, nothing recorded."""
    return insert_people(count, prefix, permission=lambda number: number % 3 != 0)


def measure_burst(emulator, configuration, count=None, identifier="burst", pace="drainer"):
    """Every synced contact added to a new group in one go, then rounds at ``pace`` (see WORKER_INTERVAL) until
    nothing is due or open; ``count`` contacts when given, else all. Returns (seconds, API requests, contacts
    synced); at the worker's pace the seconds count from the change, its first wait (WORKER_DELAY) included."""
    from django.conf import settings
    from shuup.core.models import ContactGroup, PersonContact

    from shoop_mailchimp.management.commands.mailchimp_sync import Command
    from shoop_mailchimp.models import SyncState, SyncStatus
    from shoop_mailchimp.sync.drainer import drain
    from shoop_mailchimp.sync.rounds import run_due_work, seconds_to_next_round

    settings.SHOOP_MAILCHIMP = {name: value for name, value in settings.SHOOP_MAILCHIMP.items()
                                if name != "BATCH_POLL_INTERVAL"}
    people = list(PersonContact.objects.filter(email__startswith="bulk").order_by("pk").values_list(
        "pk", flat=True)[:count])
    group = ContactGroup.objects.create(identifier=identifier, name=identifier.title())
    drain()  # the group's interest first, as in measure_group_add_one_by_one
    emulator.clear_requests()
    started = time.perf_counter()
    group.members.add(*people)
    synced = 0
    if pace == "worker":
        time.sleep(WORKER_DELAY)
    while True:
        synced += run_due_work()["contact synced"]
        if not SyncState.objects.exclude(status__in=(SyncStatus.SYNCED, SyncStatus.FAILED, SyncStatus.SKIPPED)
                                         ).exists():
            return time.perf_counter() - started, api_requests(emulator), synced
        # The worker's own pause (mailchimp_sync --loop): its interval, BATCH_POLL_INTERVAL while batches are open.
        time.sleep(Command.next_round_in(WORKER_INTERVAL) if pace == "worker" else seconds_to_next_round())


def measure_group_add_one_by_one(emulator, identifier="one-by-one"):
    """Seconds a contact for the burst's change (added to a group) sent one by one: the SAMPLE contacts,
    already synced, added to a group of their own and drained (the drainer alone makes no burst)."""
    from shuup.core.models import ContactGroup, PersonContact

    from shoop_mailchimp.sync.drainer import drain

    people = list(PersonContact.objects.filter(email__startswith="single").values_list("pk", flat=True))
    group = ContactGroup.objects.create(identifier=identifier, name=identifier.replace("-", " ").capitalize())
    drain()  # the group's interest, so that only the contacts' sends are timed
    group.members.add(*people)
    emulator.clear_requests()
    started = time.perf_counter()
    report = drain()
    seconds = time.perf_counter() - started
    assert report["contact synced"] == len(people), report
    print("one by one: %d contacts added to a group in %.1f s with %d API requests"
          % (len(people), seconds, api_requests(emulator)))
    return seconds / len(people)


def set_enabled(configuration, enabled):
    switch_integration(configuration, enabled)


def batch_posts(emulator):
    return [r for r in emulator.requests if r["method"] == "POST" and r["path"].endswith("/batches")]


def api_requests(emulator):
    return len(emulator.requests)


def requests_by_kind(emulator):
    """"3 POST batches, 40 GET batches, ...": what an API request figure is made of, ids left out."""
    kinds = collections.Counter(
        "%s %s" % (request["method"], "/".join(part for part in request["path"].strip("/").split("/")
                                              if not any(character.isdigit() for character in part)))
        for request in emulator.requests)
    return ", ".join("%d %s" % (count, kind) for kind, count in kinds.most_common())


def measure_memory(count):
    """Child process: bulk sync ``count`` contacts; prints the peak RSS in MB."""
    setup_django()
    from shoop_mailchimp.testing.emulator import DEMO_API_KEY, DEMO_LIST_ID

    # The emulator runs in its own process: its state (every member, every batch) is not ours to count.
    emulator = RemoteEmulator()
    try:
        _measure_against(emulator, DEMO_API_KEY, DEMO_LIST_ID, count)
    finally:
        emulator.stop()


def _measure_against(emulator, api_key, list_id, count):
    from django.conf import settings

    from shoop_mailchimp.sync import bulk

    configuration = configure_shop(emulator, api_key, list_id, delivery="worker")
    set_enabled(configuration, False)
    create_contacts(count, "m")
    set_enabled(configuration, True)
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, BATCH_POLL_INTERVAL=0.5)
    report = bulk.sync_existing(configuration.shop_id, timeout=600)
    assert report["contact synced"] >= count, report
    print(peak_rss_mb())


def peak_rss_mb():
    """This process's own peak RSS. Linux's ru_maxrss survives exec: a child started by a big parent
    would report the parent's size; VmHWM belongs to the new program's memory alone."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    setup_django()
    from django.conf import settings

    from shoop_mailchimp.conf import DEFAULTS
    from shoop_mailchimp.models import SyncKind
    from shoop_mailchimp.sync import bulk
    from shoop_mailchimp.sync.drainer import drain
    from shoop_mailchimp.sync.state import record
    from shoop_mailchimp.testing.emulator import DEMO_API_KEY, DEMO_LIST_ID

    # The emulator in a process of its own, as Mailchimp is: its CPU (running every batch operation) is
    # not the shop's.
    emulator, api_key, list_id = RemoteEmulator(), DEMO_API_KEY, DEMO_LIST_ID
    configuration = configure_shop(emulator, api_key, list_id, delivery="worker")
    drain()
    ok = True
    set_enabled(configuration, False)
    started = time.perf_counter()
    create_contacts(CONTACTS, "bulk")
    print("created %d contacts in %.0f s" % (CONTACTS, time.perf_counter() - started))
    set_enabled(configuration, True)
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, BATCH_POLL_INTERVAL=1)
    emulator.faults.latency(LATENCY)

    # 1. Bulk: every never-synced contact through batches.
    emulator.clear_requests()
    started = time.perf_counter()
    report = bulk.sync_existing(configuration.shop_id, timeout=900)
    bulk_seconds = time.perf_counter() - started
    bulk_requests = api_requests(emulator)
    synced = report["contact synced"]
    print("bulk: %d contacts synced in %.1f s with %d API requests (+ %d result archive downloads, not API calls): %s"
          % (synced, bulk_seconds, bulk_requests, len(batch_posts(emulator)), requests_by_kind(emulator)))

    # 2. One request pair per contact: SAMPLE contacts through the incremental worker, extrapolated.
    set_enabled(configuration, False)
    create_contacts(SAMPLE, "single")
    set_enabled(configuration, True)
    record(configuration.shop_id, SyncKind.CONTACT, list(bulk.unqueued_ids(configuration.shop_id, SyncKind.CONTACT)))
    emulator.clear_requests()
    started = time.perf_counter()
    single = drain()
    single_seconds = (time.perf_counter() - started) * synced / SAMPLE
    single_requests = api_requests(emulator) * synced / SAMPLE
    print("per contact: %d contacts in %.1f s, extrapolated linearly to %d contacts: %.0f s, %.0f requests" % (
        single["contact synced"], single_seconds * SAMPLE / synced, synced, single_seconds, single_requests))
    ok &= ratio_line("bulk %d contacts: API requests in all" % synced, bulk_requests, 60, unit="")
    ok &= ratio_line("wall time, per contact (extrapolated) / bulk", single_seconds / bulk_seconds, 20,
                     lower_is_better=False)

    # 3. The same change one by one: the SAMPLE contacts, synced above, added to a group with bursts off.
    per_change_seconds = measure_group_add_one_by_one(emulator)
    print("the same change one by one: %.1f ms a contact" % (per_change_seconds * 1000))

    # 4. A burst: the bulk's contacts, all changed at once (added to a group), sent by the drainer's rounds.
    burst_seconds, burst_requests, burst_synced = measure_burst(emulator, configuration)
    print("burst: %d changed contacts reached Mailchimp in %.1f s with %d API requests"
          % (burst_synced, burst_seconds, burst_requests))
    ok &= ratio_line("burst of %d changed contacts: API requests in all" % burst_synced, burst_requests, 60,
                     unit="")
    ok &= ratio_line("wall time, the same change one by one (extrapolated) / burst",
                     per_change_seconds * burst_synced / burst_seconds, 20, lower_is_better=False)
    # 4b. The same at the pace of mailchimp_sync --loop: its first round WORKER_DELAY after the change, which one
    # by one waits for too (the worker's round drains everything due).
    worker_seconds, worker_requests, worker_synced = measure_burst(emulator, configuration, identifier="worker-burst",
                                                                   pace="worker")
    print("burst at the worker's pace (--interval %g, first round %g s after the change): %d changed contacts "
          "reached Mailchimp in %.1f s with %d API requests"
          % (WORKER_INTERVAL, WORKER_DELAY, worker_synced, worker_seconds, worker_requests))
    ok &= ratio_line("worker pace: the same change one by one (extrap.) / burst",
                     (WORKER_DELAY + per_change_seconds * worker_synced) / worker_seconds, 20, lower_is_better=False)
    # For information: one by one with the 10 connections Mailchimp allows (DRAIN_CONCURRENCY=10; the default
    # is 1, against which the target is set).
    default_settings = settings.SHOOP_MAILCHIMP
    settings.SHOOP_MAILCHIMP = dict(default_settings, DRAIN_CONCURRENCY=10)
    concurrent_seconds = measure_group_add_one_by_one(emulator, "one-by-one-concurrently")
    settings.SHOOP_MAILCHIMP = default_settings
    print("%-62s %8.2fx  (information: one by one with DRAIN_CONCURRENCY=10)" % (
        "wall time, the same change 10 at a time (extrapolated) / burst",
        concurrent_seconds * burst_synced / burst_seconds))

    # 5. Where batches overtake one by one: a smaller burst gives the burst's fixed cost (its rounds, the
    # wait for its batches) apart from its cost per contact. The emulator starts a batch at once; real
    # Mailchimp queues it for seconds to minutes, so the default threshold must lie well above this.
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, BURST_THRESHOLD=SMALL_BURST)
    small_seconds, _requests, small_synced = measure_burst(emulator, configuration, SMALL_BURST, "small-burst")
    per_contact = (burst_seconds - small_seconds) / (burst_synced - small_synced)
    fixed = small_seconds - per_contact * small_synced
    crossover = fixed / (per_change_seconds - per_contact)
    print("burst of %d: %.1f s; a burst costs %.1f s plus %.2f ms a contact, one by one %.1f ms a contact"
          % (small_synced, small_seconds, fixed, per_contact * 1000, per_change_seconds * 1000))
    ok &= ratio_line("contacts from which a burst is quicker (default BURST_THRESHOLD %d)"
                     % DEFAULTS["BURST_THRESHOLD"], crossover, DEFAULTS["BURST_THRESHOLD"], unit="")
    emulator.stop()

    if database_name() == "sqlite" and not os.environ.get("BENCH_MEMORY_APART"):
        ok &= memory_figures()  # a process's memory does not depend on the database: measured once
    sys.exit(0 if ok else MISSED)


def memory_figures():
    """Peak RSS of a bulk sync of the large size vs the small one, each in a fresh process, both at once: a
    process's peak memory does not depend on how busy the CPUs are (``make bench`` runs this beside the
    other benchmarks, at the lowest CPU priority). Returns whether the targets were met."""
    started = time.perf_counter()
    children = {contacts: subprocess.Popen([sys.executable, os.path.abspath(__file__), "memory", str(contacts)],
                                           stdout=subprocess.PIPE, text=True) for contacts in MEMORY_SIZES}
    peaks = {}
    for contacts, child in children.items():
        output = child.communicate()[0]
        if child.returncode:
            raise SystemExit("the bulk sync of %d contacts failed" % contacts)
        peaks[contacts] = float(output.split()[-1])
        print("bulk sync of %d contacts: peak RSS %.0f MB" % (contacts, peaks[contacts]))
    print("both bulk syncs took %.0f s" % (time.perf_counter() - started))
    small, large = MEMORY_SIZES
    ok = ratio_line("peak RSS, %d contacts (MB)" % large, peaks[large], 300, unit="")
    return ok & ratio_line("peak RSS, %d / %d contacts" % (large, small), peaks[large] / peaks[small], 1.5)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "memory":
        measure_memory(int(sys.argv[2]))
    elif sys.argv[1:] == ["memory-figures"]:
        sys.exit(0 if memory_figures() else MISSED)
    else:
        main()
