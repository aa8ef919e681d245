"""PostgreSQL, real processes, no test hooks: two workers (one killed now and then), an editor whose
transactions last 50 ms, and people unsubscribing in Mailchimp. When it settles, every contact in
Mailchimp is what the shop holds, and nobody is subscribed without the shop's consent.

Needs PostgreSQL's binaries (``scripts/system-deps`` installs them); skipped otherwise.
"""
import os
import random
import signal
import tempfile
import time

import psycopg2
import pytest

from shoop_mailchimp.mailchimp.members import mailchimp_email
from shoop_mailchimp.mailchimp.resources import subscriber_hash
from tests.helpers import poll_until, wait_for
from tests.reliability import registry
from tests.services.processes import new_account, run_module, services_env, start, stop

pytestmark = pytest.mark.services
CONTACTS = 40
CHAOS_SECONDS = 25
WORKER = ("django", "mailchimp_sync", "--loop", "--interval", "0.2")


def query(port, sql):
    with psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres") as connection:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()


def unsettled(port):
    return query(port, "SELECT count(*) FROM shoop_mailchimp_syncstate WHERE status IN ('pending', 'sending')")[0][0]


def settled(port, seconds=90):
    """Wait until the workers (other processes) left no row pending or sending; returns how many are left."""
    try:
        poll_until(lambda: not unsettled(port), seconds, "no row is pending", interval=0.5)
    except AssertionError:
        pass  # the caller names what is left
    return unsettled(port)


def shop_state(port):
    """{contact id: (email, consent, first name, last name, e-mail Mailchimp has, row status, group names)}."""
    rows = query(port, """
        SELECT c.id, c.email, c.marketing_permission, p.first_name, p.last_name, s.email, s.status,
               COALESCE((SELECT string_agg(t.name, ',' ORDER BY t.name) FROM shuup_contactgroup_members m
                         JOIN shuup_contactgroup_translation t ON t.master_id = m.contactgroup_id
                         JOIN shuup_contactgroup g ON g.id = m.contactgroup_id
                         WHERE m.contact_id = c.id AND g.identifier LIKE 'chaos-%%'), '')
        FROM shuup_contact c JOIN shuup_personcontact p ON p.contact_ptr_id = c.id
        JOIN shoop_mailchimp_syncstate s ON s.object_id = c.id AND s.kind = 'contact'
        WHERE p.last_name = 'Haos'""")
    return {row[0]: row[1:] for row in rows}


def disagreements(emulator, api_key, list_id, port):
    """({contact id: [why Mailchimp's member is not what the shop holds]}, [members subscribed or pending
    without the shop's consent])."""
    stale = {}
    for contact_id, (email, consent, first, last, sent_email, status, _groups) in shop_state(port).items():
        member = emulator.get_member(api_key, list_id, sent_email or mailchimp_email(email))
        reasons = []
        if member is None:
            reasons.append("no member")
        else:
            subscribed = member["status"] in ("subscribed", "pending")
            if subscribed != consent:
                reasons.append("member %s, shop consent %s" % (member["status"], consent))
            if (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) != (first, last):
                reasons.append("names %r" % member["merge_fields"])
        if sent_email.lower() != mailchimp_email(email).lower():
            reasons.append("Mailchimp holds %s, the shop %s" % (sent_email, email))
        if status != "synced":
            reasons.append("row %s" % status)
        if reasons:
            stale[contact_id] = reasons
    consenting = {mailchimp_email(row[0]).lower() for row in shop_state(port).values() if row[1]}
    violations = [member["email_address"] for member in emulator.members(api_key, list_id)
                  if member["status"] in ("subscribed", "pending")
                  and member["email_address"].lower() not in consenting]
    return stale, violations


def history(emulator, port, address):
    """What the shop logged for the contacts that ever had ``address``, and every request Mailchimp saw for it:
    printed when the chaos ends in a disagreement, so a failure on CI can be read without running it again."""
    contact_ids = {row[0] for row in query(port, "SELECT DISTINCT contact_id FROM shoop_mailchimp_mailchimplogentry "
                                                 "WHERE message LIKE '%%%s%%'" % address.replace("'", ""))}
    lines = ["history of %s (contacts %s)" % (address, sorted(contact_ids))]
    for contact_id in sorted(i for i in contact_ids if i is not None):
        for created_on, action, message in query(port, "SELECT created_on, action, message FROM "
                                                       "shoop_mailchimp_mailchimplogentry WHERE contact_id = %d "
                                                       "ORDER BY id" % contact_id):
            lines.append("  shop %s %s [%s] %s" % (created_on.strftime("%H:%M:%S.%f"), contact_id, action, message))
    wanted = subscriber_hash(address)
    for request in emulator.requests:
        if wanted in request["path"] or address.lower() in repr(request["body"]).lower():
            lines.append("  mailchimp %s %s %s %s -> %s" % (time.strftime("%H:%M:%S", time.gmtime(request["time"])),
                                                          request["method"], request["path"], request["body"],
                                                          request["status"]))
    return "\n".join(lines)


def test_chaos_ends_with_the_shop_and_mailchimp_in_agreement(postgres_port):
    emulator, api_key, list_id = new_account()
    emulator.faults.latency(0.01)
    env = services_env(emulator, api_key, list_id, None, postgres_port, SHOOP_MAILCHIMP_LEASE_SECONDS="4")
    try:
        run_module(env, "tests.services.chaos_actors", "setup", str(CONTACTS))
        seed = int(os.environ.get("SHOOP_MAILCHIMP_CHAOS_SEED") or random.randrange(10 ** 6))
        rng = random.Random(seed)
        workers = [start(env, *WORKER) for _ in range(2)]
        editor = start(env, "tests.services.chaos_actors", "edit", str(CHAOS_SECONDS), str(seed))
        unsubscriber = start(env, "tests.services.chaos_actors", "unsubscribe", str(CHAOS_SECONDS), str(seed + 1))
        kills, deadline = 0, time.monotonic() + CHAOS_SECONDS
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(2, 6))
            victim = rng.randrange(2)
            workers[victim].send_signal(signal.SIGKILL)  # mid-round, wherever it was
            workers[victim].wait()
            workers[victim] = start(env, *WORKER)
            kills += 1
        edits = int(editor.communicate(timeout=60)[0].split()[-1])
        unsubscribes = int(unsubscriber.communicate(timeout=60)[0].split()[-1])
        assert editor.returncode == 0 and unsubscriber.returncode == 0
        remaining = settled(postgres_port)
    finally:
        stop(locals().get("workers", []))
        emulator.stop()
    assert remaining == 0, "rows still pending after the chaos settled (seed %s)" % seed

    stale, violations = disagreements(emulator, api_key, list_id, postgres_port)
    for name, count in (("chaos_runs", 1), ("chaos_edits", edits), ("chaos_unsubscribes", unsubscribes),
                        ("chaos_kills", kills), ("chaos_stale", len(stale)), ("consent_violations", len(violations))):
        registry.tally(name, count)
    print("chaos (seed %s): %d edits, %d Mailchimp-side unsubscribes, %d worker kills, %d stale, %d consent "
          "violations" % (seed, edits, unsubscribes, kills, len(stale), len(violations)))
    holding = shop_state(postgres_port)
    for address in violations + [holding[contact_id][4] or holding[contact_id][0] for contact_id in stale]:
        print(history(emulator, postgres_port, address))
    assert not stale, "contacts whose Mailchimp state is not the shop's (seed %s): %s" % (seed, stale)
    assert not violations, "subscribed without the shop's consent (seed %s): %s" % (seed, violations)
    assert not emulator.violations


def test_an_address_changed_in_mailchimp_while_a_worker_sends_is_kept(postgres_port):
    """The upemail webhook lands (in another process) while a worker's send to the old address hangs."""
    emulator, api_key, list_id = new_account()
    env = services_env(emulator, api_key, list_id, None, postgres_port)
    try:
        run_module(env, "tests.services.chaos_actors", "setup", "1")
        run_module(env, "tests.services.chaos_actors", "rename", "c0@fastmail.com", "Renamed")
        # The webhook's process starts first and waits; it acts the moment the worker's send is held.
        signals = tempfile.mkdtemp()
        webhook = start(env, "tests.services.chaos_actors", "upemail", "c0@fastmail.com", "c0.new@fastmail.com",
                        signals)
        poll_until(lambda: os.path.exists(os.path.join(signals, "ready")), 120, "the webhook process is ready")
        emulator.faults.hang(3, "/lists/*/members/*", times=1)  # under the client's 5 s read timeout
        worker = start(env, "django", "mailchimp_sync")  # one round: its member PUT hangs
        wait_for(emulator, lambda: emulator.faults.hangs_begun, "the worker's send being held", timeout=120)
        open(os.path.join(signals, "go"), "w").close()
        webhook.communicate(timeout=60)
        assert webhook.returncode == 0
        worker.communicate(timeout=60)  # its close keeps the webhook's address
        assert worker.returncode == 0
        run_module(env, "django", "mailchimp_sync")  # the next round sends the row again, to the new address
    finally:
        emulator.stop()
    member = emulator.get_member(api_key, list_id, "c0.new@fastmail.com")
    assert (member["status"], member["merge_fields"]["FNAME"]) == ("subscribed", "Renamed")
    stray = emulator.get_member(api_key, list_id, "c0@fastmail.com")
    assert stray is None or stray["status"] == "transactional", "the old address is never subscribed again"
    assert query(postgres_port, "SELECT email, status FROM shoop_mailchimp_syncstate WHERE kind = 'contact' "
                                "AND object_id = (SELECT id FROM shuup_contact WHERE email = 'c0@fastmail.com')") == [
        ("c0.new@fastmail.com", "synced")]
