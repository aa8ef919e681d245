"""Tests wait on the emulator's events, not on time: ``wait_until`` wakes at a change, a held batch goes as soon as
``batch_delay`` is lowered, and a hang ends when released or at a reset."""

import threading
import time

import requests

from .conftest import control
from .test_batches import member_op


def in_thread(function):
    """Run ``function`` in a thread; returns ``(thread, outcome)``: ``outcome`` gets its result or error."""
    outcome = []

    def run():
        try:
            outcome.append(function())
        except Exception as error:  # the test reads it
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_wait_until_wakes_when_a_request_changes_the_state(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    thread, _ = in_thread(lambda: (time.sleep(0.2), api("PUT", f"lists/{list_id}/members/{member_hash()}",
                                                        json={"email_address": EMAIL, "status_if_new": "subscribed"})))
    started = time.monotonic()
    member = emu.wait_until(lambda: emu.get_member(api_key, list_id, EMAIL), timeout=10)
    assert member and member["status"] == "subscribed"
    assert time.monotonic() - started < 5, "woken by the change, not by the timeout"
    thread.join(5)


def test_wait_until_gives_the_falsy_value_when_the_time_is_up(mailchimp_account):
    emu, api_key, list_id = mailchimp_account
    started = time.monotonic()
    assert emu.wait_until(lambda: emu.get_member(api_key, list_id, EMAIL), timeout=0.2) is None
    assert 0.2 <= time.monotonic() - started < 2


def test_wait_until_wakes_when_a_helper_changes_a_member(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    emu.add_members(api_key, list_id, [EMAIL])
    thread, _ = in_thread(lambda: (time.sleep(0.2), emu.set_member_status(api_key, list_id, EMAIL, "unsubscribed")))
    assert emu.wait_until(lambda: emu.get_member(api_key, list_id, EMAIL)["status"] == "unsubscribed", timeout=10)
    thread.join(5)


def test_a_held_batch_goes_at_once_when_the_delay_is_lowered(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    emu.batch_delay = 60
    batch = api("POST", "batches", json={"operations": [member_op(list_id, EMAIL, "a")]}).json()
    assert not emu.wait_until(lambda: emu.batches(api_key)[0]["status"] != "pending", timeout=0.3), "held"
    started = time.monotonic()
    emu.batch_delay = 0
    assert emu.wait_until(lambda: emu.batches(api_key)[0]["status"] == "finished", timeout=10)
    assert time.monotonic() - started < 5, "the lowered delay took effect for the batch already held"
    assert api("GET", f"batches/{batch['id']}").json()["status"] == "finished"
    assert emu.get_member(api_key, list_id, EMAIL)["status"] == "subscribed"


def test_a_held_batch_can_be_seen_started_then_let_finish(mailchimp_account, api):
    """``batch_delay`` holds a batch twice: before its operations run, and before it finishes."""
    emu, api_key, list_id = mailchimp_account
    emu.batch_delay = 0.5  # long enough to make the second hold long before it ends
    api("POST", "batches", json={"operations": [member_op(list_id, EMAIL, "a")]})
    assert emu.wait_until(lambda: emu.batches(api_key)[0]["status"] == "started", timeout=10)
    emu.batch_delay = 60
    assert not emu.wait_until(lambda: emu.batches(api_key)[0]["status"] == "finished", timeout=0.4), "held"
    assert emu.get_member(api_key, list_id, EMAIL), "its operations ran"
    emu.batch_delay = 0
    assert emu.wait_until(lambda: emu.batches(api_key)[0]["status"] == "finished", timeout=10)


def test_a_reset_ends_a_held_batch(mailchimp_account, api):
    """The batch worker is one thread: a batch still held from a test would hold every later test's batches."""
    emu, api_key, list_id = mailchimp_account
    emu.batch_delay = 60
    api("POST", "batches", json={"operations": [member_op(list_id, EMAIL, "a")]})
    emu.reset()
    api_key = emu.add_account()
    list_id = emu.add_list(api_key)
    response = requests.post(emu.base_url + "batches", auth=("shop", api_key), timeout=10,
                             json={"operations": [member_op(list_id, EMAIL, "b")]})
    assert response.status_code == 200
    assert emu.wait_until(lambda: emu.batches(api_key)[0]["status"] == "finished", timeout=5), \
        "the next batch waited for the old one's delay"


def test_release_hangs_lets_a_held_request_go_at_once(mailchimp_account, api):
    emu = mailchimp_account[0]
    emu.faults.hang(60, path_pattern="/ping", times=1)
    thread, outcome = in_thread(lambda: api("GET", "ping", timeout=30))
    assert emu.wait_until(lambda: emu.faults.hangs_begun == 1, timeout=10)
    assert emu.stats["in_flight"] == 1
    started = time.monotonic()
    emu.release_hangs()
    thread.join(10)
    assert not thread.is_alive() and outcome[0].status_code == 200
    assert time.monotonic() - started < 5
    assert emu.requests[-1]["duration"] < 30


def test_release_hangs_over_the_control_api(mailchimp_account, api):
    emu = mailchimp_account[0]
    control(emu, "POST", "faults", json={"kind": "hang", "seconds": 60, "path_pattern": "/ping"})
    thread, outcome = in_thread(lambda: api("GET", "ping", timeout=30))
    assert emu.wait_until(lambda: emu.faults.hangs_begun == 1, timeout=10)
    control(emu, "POST", "faults/release-hangs")
    thread.join(10)
    assert not thread.is_alive() and outcome[0].status_code == 200


def test_a_reset_ends_a_hang_and_records_nothing_of_it(mailchimp_account, api):
    emu = mailchimp_account[0]
    emu.faults.hang(60, path_pattern="/ping")
    thread, outcome = in_thread(lambda: api("GET", "ping", timeout=30))
    assert emu.wait_until(lambda: emu.faults.hangs_begun == 1, timeout=10)
    emu.reset()
    thread.join(10)
    assert not thread.is_alive()
    assert isinstance(outcome[0], requests.ConnectionError), "an old test's request is dropped"
    assert emu.requests == []


def test_a_reset_ends_a_latency_and_records_nothing_of_it(mailchimp_account, api):
    emu = mailchimp_account[0]
    emu.faults.latency(60)
    thread, outcome = in_thread(lambda: api("GET", "ping", timeout=30))
    assert emu.wait_until(lambda: emu.stats["in_flight"] == 1, timeout=10)
    emu.reset()
    thread.join(10)
    assert not thread.is_alive()
    assert isinstance(outcome[0], requests.ConnectionError)
    assert emu.requests == [], "its record would land in the next test's"


EMAIL = "wait.for.me@gmail.com"


def member_hash():
    from .conftest import md5

    return md5(EMAIL)
