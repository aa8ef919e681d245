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
from shoop_mailchimp.testing.emulator import Emulator

pytestmark = pytest.mark.services
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
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


def test_two_workers_one_killed_every_contact_arrives(redis_url, postgres_port):
    emulator = Emulator(require_spec=True).start()
    api_key = emulator.add_account()
    list_id = emulator.add_list(api_key)
    emulator.faults.latency(0.02)
    env = dict(
        os.environ, DJANGO_SETTINGS_MODULE="tests.services.settings_pg", SHOOP_MAILCHIMP_PG_PORT=str(postgres_port),
        SHOOP_MAILCHIMP_API_BASE_URL=emulator.base_url, SHOOP_MAILCHIMP_REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url, SHOOP_MAILCHIMP_API_KEY=api_key, SHOOP_MAILCHIMP_LIST_ID=list_id,
        PYTHONPATH=ROOT,
    )
    shop_id = int(subprocess.run([sys.executable, "-m", "tests.services.setup_shop", str(CONTACTS)], env=env,
                                 cwd=ROOT, check=True, stdout=subprocess.PIPE, timeout=120).stdout.split()[-1])
    emulator.clear_requests()
    emulator.reset_stats()
    celery = os.path.join(os.path.dirname(sys.executable), "celery")
    workers = [
        subprocess.Popen([celery, "-A", "shoop_mailchimp.sync.celery_app", "worker", "--pool", "threads", "-c", "8",
                          "--without-mingle", "--without-gossip", "-n", "w%d@localhost" % number, "-l", "warning"],
                         env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for number in range(2)
    ]
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
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(10)
        sender.close()
        emulator.stop()

    puts = collections.Counter()
    for request in emulator.requests:
        if request["method"] == "PUT" and "/members/" in request["path"] and request["status"] == 200:
            puts[request["path"].rsplit("/", 1)[-1]] += 1
    emails = ["p%d@example.com" % number for number in range(CONTACTS)]
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
