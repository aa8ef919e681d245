"""Reconciliation of a big audience: API requests of an incremental and a full pass, and peak memory.

An audience of MEMBERS members the shop has all sent (sync-state rows; CHANGED of them real contacts),
CHANGED of them then unsubscribed by hand in Mailchimp. The emulator runs in its own process, as Mailchimp
does; the measurement runs in a fresh process, whose peak resident size (set-up included) is printed.
"""
import os
import sys
import time
from datetime import timedelta

from common import MISSED, RemoteEmulator, configure_shop, ratio_line, setup_django, size, switch_integration

MEMBERS = size("BENCH_RECONCILE_MEMBERS", 50000, 2000)
CHANGED = size("BENCH_RECONCILE_CHANGED", 500, 50)
CHUNK = 5000


def email(number):
    return "member.%d@fastmail.com" % number


def prepare(emulator, api_key, list_id):
    """The audience and the shop's rows; the CHANGED first members are contacts, unsubscribed by hand now."""
    from django.db import transaction
    from django.utils import timezone
    from shuup.core.models import PersonContact

    from shoop_mailchimp.models import MailchimpConfiguration, SyncKind, SyncState, SyncStatus

    configuration = configure_shop(emulator, api_key, list_id, delivery="worker")
    switch_integration(configuration, False)  # the contacts below are not sent: the shop "sent" them long ago
    long_ago = timezone.now() - timedelta(days=2)
    for start in range(0, MEMBERS, CHUNK):
        emails = [email(n) for n in range(start, min(MEMBERS, start + CHUNK))]
        emulator.http.post(emulator.control + "members/add", json={
            "api_key": api_key, "list_id": list_id, "emails": emails,
            "last_changed": long_ago.replace(microsecond=0).isoformat()}).raise_for_status()
    with transaction.atomic():
        contact_ids = [PersonContact.objects.create(first_name="M%d" % n, email=email(n), marketing_permission=True).pk
                       for n in range(CHANGED)]
    for start in range(0, MEMBERS, CHUNK):
        SyncState.objects.bulk_create([SyncState(
            shop_id=configuration.shop_id, kind=SyncKind.CONTACT,
            object_id=contact_ids[n] if n < CHANGED else 10 ** 7 + n, status=SyncStatus.SYNCED, email=email(n),
            shop_email=email(n), member_status="subscribed", opt_in=True, last_synced_at=long_ago,
            next_attempt_at=long_ago) for n in range(start, min(MEMBERS, start + CHUNK))])
    for n in range(CHANGED):
        emulator.http.post(emulator.control + "members/edit", json={
            "api_key": api_key, "list_id": list_id, "email": email(n), "status": "unsubscribed"}).raise_for_status()
    switch_integration(configuration, True)
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(
        reconciled_until=timezone.now() - timedelta(days=1))
    configuration.refresh_from_db()
    return configuration


def measure():
    """Child process: prints "requests seconds" for each pass, then the peak RSS in MB."""
    setup_django()
    from shuup.core.models import Contact

    from shoop_mailchimp.mailchimp.transport import open_session
    from shoop_mailchimp.reconciliation import reconcile
    from shoop_mailchimp.testing.emulator import DEMO_API_KEY, DEMO_LIST_ID

    emulator = RemoteEmulator()
    try:
        configuration = prepare(emulator, DEMO_API_KEY, DEMO_LIST_ID)
        for full in (False, True):
            emulator.clear_requests()
            started = time.perf_counter()
            with open_session(configuration) as session:
                report = reconcile(configuration, session, full=full)
            seconds = time.perf_counter() - started
            assert report["found"]["unsubscribed"] == (0 if full else CHANGED), report["found"]
            print("pass %s %d %.1f %d" % ("full" if full else "incremental", len(emulator.requests), seconds,
                                          report["read"]))
        assert not Contact.objects.filter(marketing_permission=True).exists(), "every unsubscribe was applied"
    finally:
        emulator.stop()
    from bulk import peak_rss_mb

    print("peak %.1f" % peak_rss_mb())


def main():
    import subprocess

    output = subprocess.run([sys.executable, os.path.abspath(__file__), "measure"], check=True,
                            stdout=subprocess.PIPE, text=True).stdout
    passes, peak = {}, None
    for line in output.splitlines():
        words = line.split()
        if words[:1] == ["pass"]:
            passes[words[1]] = (int(words[2]), float(words[3]), int(words[4]))
        elif words[:1] == ["peak"]:
            peak = float(words[1])
    ok = True
    requests, seconds, read = passes["incremental"]
    print("incremental: %d members read in %.1f s" % (read, seconds))
    ok &= ratio_line("reconcile %d of %d members changed: API requests" % (CHANGED, MEMBERS), requests, 10, unit="")
    requests, seconds, read = passes["full"]
    print("full: %d members read in %.1f s" % (read, seconds))
    ok &= ratio_line("full reconciliation of %d members: API requests" % MEMBERS, requests, 60, unit="")
    ok &= ratio_line("peak RSS of the reconciling process, set-up included (MB)", peak, 300, unit="")
    sys.exit(0 if ok else MISSED)


if __name__ == "__main__":
    if sys.argv[1:] == ["measure"]:
        measure()
    else:
        main()
