"""Costs the integration adds: contact saves with it on vs off, DB queries and HTTP requests per contact.

Each figure is a ratio or a count measured in this run, against the bundled emulator. Saves and
checkouts are measured in worker mode and in celery mode (a task enqueued on a live Redis broker
after each commit; the workers that would consume them run elsewhere and are not started here; on
SQLite only, as publishing touches no database).
"""
import os
import statistics
import sys

from common import (
    MISSED,
    configure_shop,
    database_name,
    insert_people,
    ratio_line,
    setup_django,
    size,
    start_emulator,
    switch_integration,
    timed,
)

SAVES = size("BENCH_SAVES", 200, 50)
ROUNDS = size("BENCH_ROUNDS", 3, 2)
ORDERS = size("BENCH_ORDERS", 10, 3)
DRAINS = (size("BENCH_DRAIN_SMALL", 100, 20), size("BENCH_DRAIN", 1000, 100))
#: Changed contacts sent as a shop's rounds send a backlog that size: at the default BURST_THRESHOLD (1,000)
#: through a burst's batches (the quick size lowers the threshold to its own).
BURST = size("BENCH_BURST", 1000, 100)


def save_contacts(contacts):
    """Each save in its own transaction, as in a request that edits a contact."""
    from django.db import transaction

    for contact in contacts:
        with transaction.atomic():
            contact.first_name = contact.first_name + "x"
            contact.save()


def set_enabled(configuration, enabled):
    switch_integration(configuration, enabled)


def compare(configuration, work, rounds):
    """Median wall time of ``work`` with the integration on / off, rounds alternating."""
    timings = {True: [], False: []}
    for _ in range(rounds):
        for enabled in (False, True):
            set_enabled(configuration, enabled)
            timings[enabled].append(timed(work)[0])
    set_enabled(configuration, True)
    return statistics.median(timings[True]) / statistics.median(timings[False])


def burst_queries(shop_id, contacts):
    """DB queries of the drainer's rounds (``run_due_work``, as the background drainer, the worker and
    Celery run them) until every one of ``contacts``, changed at once, is closed: at BURST_THRESHOLD or more
    due contacts they go through a burst's batches, polled every BATCH_POLL_INTERVAL (0.2 s here: the
    emulator runs a batch at once, and each look costs a few queries whatever the burst's size)."""
    import time

    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shoop_mailchimp.conf import DEFAULTS
    from shoop_mailchimp.models import BatchOrigin, MailchimpBatch, SyncKind, SyncState, SyncStatus
    from shoop_mailchimp.sync.rounds import run_due_work
    from shoop_mailchimp.sync.state import record

    default_settings = settings.SHOOP_MAILCHIMP
    settings.SHOOP_MAILCHIMP = dict(default_settings, BURST_THRESHOLD=min(DEFAULTS["BURST_THRESHOLD"], len(contacts)),
                                    BATCH_POLL_INTERVAL=0.2)
    try:
        # As in the drain figures, rows made anew (each contact a member and a customer PUT), but queued in one
        # go, as an import queues them: saving 1,000 contacts one by one is time the figure does not need.
        SyncState.objects.all().delete()
        record(shop_id, SyncKind.CONTACT, [contact.pk for contact in contacts])
        started = time.perf_counter()
        rounds = 0
        with CaptureQueriesContext(connection) as queries:
            while True:
                report = run_due_work()
                rounds += 1
                if not SyncState.objects.exclude(status__in=(SyncStatus.SYNCED, SyncStatus.FAILED,
                                                             SyncStatus.SKIPPED)).exists():
                    break
                time.sleep(0.2)
        batches = MailchimpBatch.objects.filter(origin=BatchOrigin.BURST).count()
        assert batches, "no burst: %r" % report
        synced = SyncState.objects.filter(status=SyncStatus.SYNCED).count()
        print("burst: %d changed contacts synced through %d batches in %d rounds (%.1f s), %d DB queries"
              % (synced, batches, rounds, time.perf_counter() - started, len(queries)))
        return len(queries)
    finally:
        settings.SHOOP_MAILCHIMP = default_settings


def celery_mode_costs(configuration, contacts, checkouts):
    """Saves and checkouts with DELIVERY="celery": each commit enqueues a drain task on Redis."""
    from django.conf import settings

    from tests.services.servers import start_redis

    started = start_redis()
    if started is None:
        print("celery mode: redis-server is not installed (scripts/system-deps installs it): NOT MEASURED")
        return False
    url, process = started
    os.environ["CELERY_BROKER_URL"] = url
    try:
        import redis

        from shoop_mailchimp.sync import celery_app  # noqa: F401  (the broker comes from the environment)

        settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="celery", REDIS_URL=url)
        broker = redis.Redis.from_url(url)
        save_contacts(contacts[:100])  # warm-up: the broker connection
        broker.delete("celery")
        ok = ratio_line("%d contact saves, on (celery mode) / off (median of %d)" % (SAVES, ROUNDS),
                        compare(configuration, lambda: save_contacts(contacts[:SAVES]), ROUNDS), 1.10)
        enqueued = broker.llen("celery")
        ok &= ratio_line("drain tasks published per save (on rounds)", enqueued / (ROUNDS * SAVES), 1,
                         unit="")
        ok &= ratio_line("%d checkouts, on (celery mode) / off (median of %d)" % (ORDERS, ROUNDS),
                         compare(configuration, checkouts, ROUNDS), 1.10)
    finally:
        settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", REDIS_URL=None)
        process.kill()
        process.wait()
    return ok


def main():
    setup_django()
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from shuup.core.models import PersonContact

    from shoop_mailchimp.models import SyncKind, SyncState
    from shoop_mailchimp.sync.drainer import drain
    from shoop_mailchimp.sync.state import record

    emulator, api_key, list_id = start_emulator()
    configuration = configure_shop(emulator, api_key, list_id, delivery="worker")
    ok = True

    # 1. Contact saves: integration off vs on (worker mode: recorded only). Rounds alternate so that
    # disk and CPU noise hits both sides alike; the medians are compared.
    ids = insert_people(max(SAVES, BURST, *DRAINS), "p", permission=lambda number: False, first_name="P%d")
    record(configuration.shop_id, SyncKind.CONTACT, ids[:10])
    drain()  # the store's groups, the connections: what a first drain sets up is not in the figures
    # A save of a contact the sync knows updates its row (as in a shop that has run for a while); whether
    # Mailchimp got the last change does not matter to the save, so the rest are not sent.
    record(configuration.shop_id, SyncKind.CONTACT, ids[10:])
    contacts = list(PersonContact.objects.filter(pk__in=ids).order_by("pk"))
    save_contacts(contacts[:100])  # warm-up
    emulator.clear_requests()
    ok &= ratio_line("%d contact saves, on (worker mode) / off (median of %d)" % (SAVES, ROUNDS),
                     compare(configuration, lambda: save_contacts(contacts[:SAVES]), ROUNDS), 1.10)
    ok &= ratio_line("HTTP requests during those saves", len(emulator.requests), 0, unit="")

    # 1b. Checkouts (OrderCreator, as the shop's checkout runs it): on vs off, alternating rounds.
    from shuup.testing.factories import create_product, create_random_order, get_default_supplier

    shop = configuration.shop
    product = create_product("bench-sku", shop=shop, supplier=get_default_supplier(), default_price=10)
    buyers = contacts[:ORDERS]

    def checkouts():
        for buyer in buyers:
            create_random_order(customer=buyer, products=[product], shop=shop, random_products=False)

    ok &= ratio_line("%d checkouts, on (worker mode) / off (median of %d)" % (ORDERS, ROUNDS),
                     compare(configuration, checkouts, ROUNDS), 1.10)
    if database_name() == "sqlite":
        # Celery mode adds a task published after the commit, off the request: nothing of it touches the
        # database, so it is measured once.
        ok &= celery_mode_costs(configuration, contacts, checkouts)

    # 2. Draining N pending contacts one by one: DB queries per contact. Below BURST_THRESHOLD that is the path
    # a shop's rounds take; at it or above (the larger size at full size) they take a burst's batches (2b), so
    # the one-by-one figure of that size is printed for information only (what DRAIN_CONCURRENCY or bursts
    # turned off cost).
    from shoop_mailchimp.conf import DEFAULTS

    for n in DRAINS:
        SyncState.objects.all().delete()
        batch = contacts[:n]
        save_contacts(batch)
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            drain()
        name = "drain %d changed contacts one by one: DB queries per contact" % n
        if n < DEFAULTS["BURST_THRESHOLD"]:
            ok &= ratio_line(name, len(queries) / n, 3, unit="")
        else:
            print("%-62s %8.2f   (information: at BURST_THRESHOLD a shop's rounds send them in a burst)"
                  % (name, len(queries) / n))

    # 2b. The same backlog as a shop's rounds send it: a burst (the batches' submissions, polls and closes).
    ok &= ratio_line("%d changed contacts through a burst: DB queries per contact" % BURST,
                     burst_queries(configuration.shop_id, contacts[:BURST]) / BURST, 3, unit="")

    # 3. HTTP requests per changed contact, and for a save that changes nothing Mailchimp sees.
    batch = contacts[:100]
    save_contacts(batch)
    emulator.clear_requests()
    drain()
    ok &= ratio_line("HTTP requests per changed contact", len(emulator.requests) / len(batch), 2, unit="")
    for contact in batch:
        contact.save()
    emulator.clear_requests()
    drain()
    ok &= ratio_line("HTTP requests per save that changes nothing", len(emulator.requests) / len(batch), 0, unit="")
    emulator.stop()
    sys.exit(0 if ok else MISSED)


if __name__ == "__main__":
    main()
