"""What a round looks at: a round a commit woke sends what was recorded, and looks at what time alone makes due
only once per POLL_INTERVAL in its process."""
import threading
from types import SimpleNamespace

import pytest

from shoop_mailchimp.sync import rounds

pytestmark = pytest.mark.django_db


@pytest.fixture
def time_made_work(monkeypatch):
    """The names of the time-made looks each round took, and the round's clock (seconds, moved by hand)."""
    looked = []
    for name in ("schedule_reconciliations", "schedule_domain_retries", "check_webhooks"):
        monkeypatch.setattr(rounds, name, lambda shop_id=None, name=name: looked.append(name))
    monkeypatch.setattr(rounds, "expire_carts", lambda: looked.append("expire_carts"))
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(rounds, "time", SimpleNamespace(monotonic=lambda: clock.now))
    return looked, clock


def test_a_woken_round_looks_at_time_made_work_once_per_poll_interval(time_made_work, settings):
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, POLL_INTERVAL=15)
    looked, clock = time_made_work
    every_look = ["schedule_reconciliations", "schedule_domain_retries", "expire_carts", "check_webhooks"]
    rounds.run_due_work(woken=True)
    assert looked == every_look, "the process's first round looks"
    looked.clear()
    clock.now += 14
    rounds.run_due_work(woken=True)
    assert looked == [], "a commit 14 s later sends what it recorded only"
    clock.now += 1
    rounds.run_due_work(woken=True)
    assert looked == every_look, "commits waking the drainer more often than its timer still let it look"
    looked.clear()
    rounds.run_due_work()
    assert looked == every_look, "a timed round (the drainer's timer, the worker's loop, Celery beat) always looks"


def test_the_background_drainer_says_whether_a_commit_woke_it(monkeypatch):
    """A commit's wake-up runs a woken round; the drainer's timer, a timed one."""
    from shoop_mailchimp.sync.delivery import BackgroundDrainer

    rounds_run, timed = [], threading.Event()

    def run_due_work(woken):
        rounds_run.append(woken)
        if not woken:
            timed.set()

    monkeypatch.setattr("shoop_mailchimp.sync.delivery.run_due_work", run_due_work)
    monkeypatch.setattr("shoop_mailchimp.sync.delivery.seconds_to_next_round", lambda: 0.05)
    drainer = BackgroundDrainer()
    drainer.wake()  # its first wait is POLL_INTERVAL long: only the wake-up ends it
    try:
        assert timed.wait(10), "the timer's round after the woken one"
    finally:
        drainer.stop(10)
    assert rounds_run[0] is True
