"""Fault injection and the per-key concurrency cap."""

import threading

import pytest
import requests
from mailchimp3 import MailChimp
from mailchimp3.mailchimpclient import MailChimpError

from .conftest import md5


def test_fail_by_path_method_and_times(mailchimp_account, api):
    emu, _, list_id = mailchimp_account
    emu.faults.fail("/lists/*", status=503, method="GET", times=2, detail="Down for maintenance")
    first = api("GET", f"lists/{list_id}")
    assert first.status_code == 503
    assert first.json()["detail"] == "Down for maintenance"
    assert api("GET", f"lists/{list_id}").status_code == 503
    assert api("GET", f"lists/{list_id}").status_code == 200
    emu.faults.fail(r"^/ping$", status=500)
    assert api("GET", "ping").json()["title"] == "Internal Server Error"


def test_fail_email(mailchimp_account, mailchimp_client, api):
    emu, _, list_id = mailchimp_account
    emu.faults.fail_email("bad@gmail.com", detail="bad@gmail.com looks fake")
    with pytest.raises(MailChimpError) as info:
        mailchimp_client.lists.members.create_or_update(
            list_id,
            md5("bad@gmail.com"),
            {"email_address": "bad@gmail.com", "status_if_new": "subscribed"},
        )
    assert info.value.args[0]["status"] == 400
    assert info.value.args[0]["detail"] == "bad@gmail.com looks fake"
    # A refused address is refused when written; a read finds what the audience holds (nothing here).
    assert api("GET", f"lists/{list_id}/members/{md5('bad@gmail.com')}").status_code == 404
    good = {"email_address": "good@gmail.com", "status_if_new": "subscribed"}
    assert api("PUT", f"lists/{list_id}/members/{md5('good@gmail.com')}", json=good).status_code == 200


def test_failure_rate_is_seeded(mailchimp_account, api):
    emu = mailchimp_account[0]
    emu.faults.failure_rate(0.5, status=502, seed=7)
    first = [api("GET", "ping").status_code for _ in range(20)]
    emu.faults.failure_rate(0.5, status=502, seed=7)
    second = [api("GET", "ping").status_code for _ in range(20)]
    assert first == second
    assert set(first) == {200, 502}


def test_latency(mailchimp_account, api):
    emu = mailchimp_account[0]
    emu.faults.latency(0.2)
    api("GET", "ping")
    assert emu.requests[-1]["duration"] >= 0.2


def test_hang_beyond_client_timeout(mailchimp_account):
    emu, api_key, _ = mailchimp_account
    emu.faults.hang(1.0, path_pattern="/ping", times=1)
    mc = MailChimp(mc_api=api_key, timeout=0.2)
    mc.base_url = emu.base_url
    with pytest.raises(requests.exceptions.Timeout):
        mc.ping.get()
    assert mc.ping.get()["health_status"] == "Everything's Chimpy!"


def test_reset_connection(mailchimp_account, api):
    emu = mailchimp_account[0]
    emu.faults.reset_connection("/ping", times=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        api("GET", "ping")
    assert api("GET", "ping").status_code == 200


def test_down_and_up_keep_the_port(mailchimp_account, api):
    emu = mailchimp_account[0]
    port = emu.port
    emu.faults.down()
    try:
        with pytest.raises(requests.exceptions.ConnectionError):
            api("GET", "ping", timeout=2)
    finally:
        emu.faults.up()
    assert emu.port == port
    assert api("GET", "ping").status_code == 200


def test_clear(mailchimp_account, api):
    emu = mailchimp_account[0]
    emu.faults.fail("*", status=500)
    emu.faults.clear()
    assert api("GET", "ping").status_code == 200


def test_eleventh_concurrent_request_gets_429(mailchimp_account, api):
    emu = mailchimp_account[0]
    emu.faults.latency(0.5)
    statuses = []
    threads = [
        threading.Thread(target=lambda: statuses.append(api("GET", "ping").status_code)) for _ in range(11)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(429) >= 1
    assert statuses.count(200) == 11 - statuses.count(429)
    assert emu.stats["max_in_flight"] <= 10
    assert emu.stats["in_flight"] == 0
    too_many = [r for r in emu.requests if r["status"] == 429]
    assert too_many


def test_cap_is_per_key(mailchimp_account, api):
    emu = mailchimp_account[0]
    other = emu.add_account()
    emu.faults.latency(0.3)
    statuses = []

    def call(key):
        response = requests.get(emu.base_url + "ping", auth=("x", key), timeout=5)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=call, args=(key,)) for key in [other] * 6 + [mailchimp_account[1]] * 6]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 12
    assert emu.stats["max_in_flight"] > 10


def test_a_request_cut_short_by_its_client_is_not_handled(mailchimp_account, api):
    """A worker killed while sending its body: the emulator neither applies half a request nor calls it the
    client's spec violation (a PostgreSQL chaos run once failed on such a 'body required')."""
    import socket
    from urllib.parse import urlsplit

    emu, api_key, list_id = mailchimp_account
    address = urlsplit(emu.base_url)
    emu.clear_requests()
    emu.clear_violations()
    with socket.create_connection((address.hostname, address.port), timeout=5) as connection:
        connection.sendall(("PUT %slists/%s/members/%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                            "Content-Length: 500\r\n\r\n{\"email_address\": " % (
                                address.path, list_id, md5("cut@fastmail.com"), address.netloc)).encode())
    assert api("GET", "ping").status_code == 200  # the server goes on
    assert emu.violations == []
    assert [r for r in emu.requests if "/members/" in r["path"]] == []
