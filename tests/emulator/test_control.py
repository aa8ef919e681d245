"""The /_emulator/ control API and the command-line demo server."""

import os
import subprocess
import sys

import requests

from shoop_mailchimp.testing.emulator import DEMO_API_KEY, DEMO_LIST_ID

from .conftest import control, md5


def test_accounts_lists_and_state(mailchimp_emulator):
    emu = mailchimp_emulator
    api_key = control(emu, "POST", "accounts", json={})["api_key"]
    list_id = control(emu, "POST", "lists", json={"api_key": api_key, "name": "Remote"})["id"]
    response = requests.get(f"{emu.base_url}lists/{list_id}", auth=("x", api_key), timeout=5)
    assert response.json()["name"] == "Remote"
    assert control(emu, "GET", "state")[api_key]["lists"][list_id]["name"] == "Remote"
    fixed = control(emu, "POST", "accounts", json={"api_key": "a" * 32 + "-us2"})["api_key"]
    assert fixed == "a" * 32 + "-us2"


def test_member_status_requests_violations_stats(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    api(
        "PUT",
        f"lists/{list_id}/members/{md5('a@gmail.com')}",
        json={"email_address": "a@gmail.com", "status_if_new": "subscribed"},
    )
    member = control(
        emu,
        "POST",
        "members/status",
        json={"api_key": api_key, "list_id": list_id, "email": "a@gmail.com", "status": "unsubscribed"},
    )
    assert member["status"] == "unsubscribed"
    assert emu.get_member(api_key, list_id, "a@gmail.com")["status"] == "unsubscribed"
    assert [r["method"] for r in control(emu, "GET", "requests")] == ["PUT"]
    control(emu, "DELETE", "requests")
    assert control(emu, "GET", "requests") == []
    api("GET", "nowhere")
    assert control(emu, "GET", "violations")[0]["path"] == "/nowhere"
    control(emu, "DELETE", "violations")
    stats = control(emu, "GET", "stats")
    assert stats["totals"]["PUT /lists/{listId}/members/{subscriberHash}"] == 1
    assert stats["in_flight"] == 0 and stats["max_in_flight"] == 1


def test_faults_over_http(mailchimp_account, api):
    emu = mailchimp_account[0]
    control(emu, "POST", "faults", json={"kind": "fail", "path_pattern": "/ping", "status": 500, "times": 1})
    assert api("GET", "ping").status_code == 500
    assert api("GET", "ping").status_code == 200
    control(emu, "POST", "faults", json={"kind": "fail", "path_pattern": "/ping", "status": 503})
    control(emu, "DELETE", "faults")
    assert api("GET", "ping").status_code == 200
    bad = requests.post(f"{emu.root_url}/_emulator/faults", json={"kind": "explode"}, timeout=5)
    assert bad.status_code == 400


def test_reset_over_http(mailchimp_account, api):
    emu = mailchimp_account[0]
    control(emu, "POST", "reset")
    assert emu.accounts == {}
    assert api("GET", "ping").status_code == 401


def test_command_line_server():
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "shoop_mailchimp.testing.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        lines = [process.stdout.readline() for _ in range(3)]
        base_url = lines[0].split()[-1]
        assert lines[1].split()[-1] == DEMO_API_KEY
        assert lines[2].split()[-1] == DEMO_LIST_ID
        response = requests.get(f"{base_url}lists/{DEMO_LIST_ID}", auth=("x", DEMO_API_KEY), timeout=5)
        assert response.json()["name"] == "Demo audience"
    finally:
        process.terminate()
        process.wait(timeout=5)
