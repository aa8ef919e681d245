"""Two real Celery workers on real PostgreSQL and Redis drain one shop; one is killed mid-run.

Needs redis-server and PostgreSQL's binaries (``scripts/system-deps`` installs them); skipped otherwise.
"""
import collections
import os
import signal
import subprocess
import sys
import time

import pytest

from shoop_mailchimp.mailchimp.members import subscriber_hash
from tests.helpers import member_writes
from tests.services.processes import ROOT, new_account, services_env, stop

pytestmark = pytest.mark.services
CONTACTS = 2000


def contact_statuses(port):
    import psycopg2

    with psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres") as connection:
        with connection.cursor() as cursor:
            cursor.execute("SELECT status, count(*) FROM shoop_mailchimp_syncstate WHERE kind = 'contact' "
                           "GROUP BY status")
            counts = dict(cursor.fetchall())
            cursor.execute("SELECT c.email FROM shuup_contact c JOIN shoop_mailchimp_syncstate s "
                           "ON s.object_id = c.id AND s.kind = 'contact' WHERE s.status = 'sending'")
            sending = {row[0] for row in cursor.fetchall()}
    return counts, sending


def setup_shop(env, *args):
    """The shop's tables, configuration and contacts, made by a process of its own; returns the shop id."""
    output = subprocess.run([sys.executable, "-m", "tests.services.setup_shop", *args], env=env, cwd=ROOT,
                            check=True, stdout=subprocess.PIPE, timeout=300).stdout
    return int(output.split()[-1])


def start_worker(env, number):
    celery = os.path.join(os.path.dirname(sys.executable), "celery")
    return subprocess.Popen([celery, "-A", "shoop_mailchimp.sync.celery_app", "worker", "--pool", "threads", "-c",
                             "8", "--without-mingle", "--without-gossip", "-n", "w%d@localhost" % number, "-l",
                             "warning"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# Shop set-up, two Celery workers and a kill in real processes: past the default 300 s on a loaded 2-core machine.
@pytest.mark.timeout(600)
def test_two_workers_one_killed_every_contact_arrives(redis_url, postgres_port):
    emulator, api_key, list_id = new_account()
    emulator.faults.latency(0.02)
    env = services_env(emulator, api_key, list_id, redis_url, postgres_port)
    shop_id = setup_shop(env, str(CONTACTS))
    emulator.clear_requests()
    emulator.reset_stats()
    workers = [start_worker(env, number) for number in range(2)]
    from celery import Celery

    sender = Celery(broker=redis_url)
    try:
        for _ in range(16):
            sender.send_task("shoop_mailchimp.sync.tasks.drain_shop", args=[shop_id])
        deadline = time.time() + 150
        in_flight_at_kill = None
        while time.time() < deadline:
            counts, sending = contact_statuses(postgres_port)
            if in_flight_at_kill is None and counts.get("synced", 0) >= CONTACTS // 4:
                workers[0].send_signal(signal.SIGKILL)
                workers[0].wait()
                in_flight_at_kill = contact_statuses(postgres_port)[1]
            if counts.get("synced", 0) == CONTACTS + 1:  # and the warm-up contact
                break
            sender.send_task("shoop_mailchimp.sync.tasks.drain_shop", args=[shop_id])  # what beat would do
            time.sleep(1)
        assert counts == {"synced": CONTACTS + 1}, counts
        assert in_flight_at_kill is not None
    finally:
        stop(workers)
        sender.close()
        emulator.stop()

    puts = collections.Counter()  # the member writes (a first send's POST creates the member) each address got
    for request in member_writes(emulator):
        if request["status"] == 200:
            puts[request["path"].rsplit("/", 1)[-1] if request["method"] == "PUT" else subscriber_hash(
                request["body"]["email_address"])] += 1
    emails = ["p%d@fastmail.com" % number for number in range(CONTACTS)]
    # None lost: every contact reached Mailchimp.
    assert all(puts[subscriber_hash(email)] >= 1 for email in emails)
    # Sent twice only when the killed worker had it in flight (sent, never recorded), and never more.
    duplicates = {email for email in emails if puts[subscriber_hash(email)] > 1}
    assert duplicates <= in_flight_at_kill
    assert all(puts[subscriber_hash(email)] <= 2 for email in emails)
    assert emulator.stats["max_in_flight"] <= 10
    assert not [r for r in emulator.requests if r["status"] == 429]
    print("services: %d contacts, %d re-sent after the kill (%d were in flight), max in flight %d" % (
        CONTACTS, len(duplicates), len(in_flight_at_kill), emulator.stats["max_in_flight"]))


def test_celery_mode_each_commit_reaches_mailchimp_through_a_worker(redis_url, postgres_port):
    """DELIVERY="celery" end to end: 200 commits in the shop's process, tasks on Redis, one worker."""
    emulator, api_key, list_id = new_account()
    env = services_env(emulator, api_key, list_id, redis_url, postgres_port, SHOOP_MAILCHIMP_DELIVERY="celery")
    workers = [start_worker(env, 0)]
    try:
        setup_shop(env, "200", "separately")  # no task is sent by hand: only the commits ask for them
        deadline = time.time() + 120
        while time.time() < deadline:
            counts, _ = contact_statuses(postgres_port)
            if counts == {"synced": 201}:
                break
            time.sleep(0.5)
        assert counts == {"synced": 201}, counts
    finally:
        stop(workers)
        emulator.stop()
    for number in range(200):
        member = emulator.get_member(api_key, list_id, "p%d@fastmail.com" % number)
        assert member["status"] == ("subscribed" if number % 2 == 0 else "transactional")
    assert not emulator.violations
