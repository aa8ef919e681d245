"""PostgreSQL, real processes, every webhook lost: two workers, an editor, people unsubscribing in Mailchimp
and an admin reconciling again and again, all at once. When it settles and a last reconciliation has
run, every contact in Mailchimp is what the shop holds, and nobody is subscribed without consent.
"""
import json
import random

import pytest

from tests.reliability import registry
from tests.services.processes import new_account, run_module, services_env, start, stop
from tests.services.test_chaos import CONTACTS, WORKER, disagreements, query, settled

pytestmark = pytest.mark.services
CHAOS_SECONDS = 20


def drift_found(port):
    """What the newest reconciliation applied (stale events and rows left for later aside)."""
    rows = query(port, "SELECT result FROM shoop_mailchimp_mailchimpjob WHERE kind = 'reconcile' "
                       "AND status = 'done' ORDER BY id DESC LIMIT 1")
    found = json.loads(rows[0][0])["found"]
    return {name: count for name, count in found.items() if count and name != "stale"}


def test_reconciliation_repairs_lost_webhooks_while_the_shop_changes(postgres_port):
    emulator, api_key, list_id = new_account()
    emulator.faults.latency(0.01)
    env = services_env(emulator, api_key, list_id, None, postgres_port)
    try:
        run_module(env, "tests.services.chaos_actors", "setup", str(CONTACTS))
        seed = random.randrange(10 ** 6)
        actors = [start(env, *WORKER), start(env, *WORKER),
                  start(env, "tests.services.chaos_actors", "edit", str(CHAOS_SECONDS), str(seed)),
                  start(env, "tests.services.chaos_actors", "lost-unsubscribe", str(CHAOS_SECONDS), str(seed + 1)),
                  start(env, "tests.services.chaos_actors", "reconcile", str(CHAOS_SECONDS), str(seed + 2))]
        counts = [int(actor.communicate(timeout=120)[0].split()[-1]) for actor in actors[2:]]
        assert all(actor.returncode == 0 for actor in actors[2:])
        # Settle, then reconcile until a pass finds nothing left to apply (one left for a send on its way
        # is read again by the next).
        for _ in range(5):
            assert settled(postgres_port) == 0, "rows still pending (seed %s)" % seed
            run_module(env, "django", "mailchimp_reconcile")
            if not drift_found(postgres_port):
                break
        remaining = settled(postgres_port)
    finally:
        stop(locals().get("actors", []))
        emulator.stop()
    assert remaining == 0
    stale, violations = disagreements(emulator, api_key, list_id, postgres_port)
    edits, unsubscribes, passes = counts
    for name, count in (("reconcile_chaos_runs", 1), ("reconcile_chaos_lost_webhooks", unsubscribes),
                        ("consent_violations", len(violations))):
        registry.tally(name, count)
    print("reconciliation chaos (seed %s): %d edits, %d unsubscribes whose webhook was lost, %d reconciliations "
          "meanwhile, %d stale, %d consent violations" % (seed, edits, unsubscribes, passes, len(stale),
                                                           len(violations)))
    assert unsubscribes > 0 and passes > 0
    assert not stale, "contacts whose Mailchimp state is not the shop's (seed %s): %s" % (seed, stale)
    assert not violations, "subscribed without the shop's consent (seed %s): %s" % (seed, violations)
    assert not emulator.violations
