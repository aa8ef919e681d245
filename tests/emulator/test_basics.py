"""Ping, authentication, lists and records."""

import pytest
import requests
from mailchimp3 import MailChimp
from mailchimp3.mailchimpclient import MailChimpError


def test_ping(mailchimp_client):
    assert mailchimp_client.ping.get() == {"health_status": "Everything's Chimpy!"}


def test_base_url_shape(mailchimp_emulator):
    assert mailchimp_emulator.base_url == f"http://127.0.0.1:{mailchimp_emulator.port}/3.0/"


def test_wrong_key_is_401(mailchimp_account):
    emu = mailchimp_account[0]
    mc = MailChimp(mc_api="f" * 32 + "-us1", timeout=5)
    mc.base_url = emu.base_url
    with pytest.raises(MailChimpError) as info:
        mc.ping.get()
    assert info.value.args[0]["status"] == 401
    assert info.value.args[0]["title"] == "API Key Invalid"
    response = requests.get(emu.base_url + "ping", timeout=5)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"


def test_revoked_key_is_401(mailchimp_client, mailchimp_account):
    emu, api_key, _ = mailchimp_account
    emu.revoke_key(api_key)
    with pytest.raises(MailChimpError) as info:
        mailchimp_client.lists.all()
    assert info.value.args[0]["status"] == 401


def test_accounts_are_isolated(mailchimp_account, api):
    emu, _, list_id = mailchimp_account
    other = emu.add_account()
    other_list = emu.add_list(other, "Other")
    assert api("GET", f"lists/{other_list}").status_code == 404
    assert [item["id"] for item in api("GET", "lists").json()["lists"]] == [list_id]


def test_lists_and_paging(mailchimp_account, mailchimp_client, api):
    emu, api_key, list_id = mailchimp_account
    ids = [list_id] + [emu.add_list(api_key, f"List {n}") for n in range(11)]
    first = mailchimp_client.lists.all(count=5, offset=0)
    assert first["total_items"] == 12 and len(first["lists"]) == 5
    everything = mailchimp_client.lists.all(get_all=True)
    assert sorted(item["id"] for item in everything["lists"]) == sorted(ids)
    assert api("GET", "lists").json()["lists"][0]["stats"]["member_count"] == 0
    assert mailchimp_client.lists.get(list_id)["name"] == "Test audience"
    missing = api("GET", "lists/0000000000")
    assert missing.status_code == 404
    assert missing.json()["title"] == "Resource Not Found"
    assert set(missing.json()) >= {"type", "title", "status", "detail", "instance"}


def test_unknown_path_is_404_and_violation(mailchimp_emulator, api):
    assert api("GET", "no-such-thing").status_code == 404
    assert api("PUT", "lists").status_code == 404
    assert [v["path"] for v in mailchimp_emulator.violations] == ["/no-such-thing", "/lists"]
    mailchimp_emulator.clear_violations()


def test_bad_query_parameter_is_a_violation(mailchimp_emulator, api):
    assert api("GET", "lists", params={"count": "many"}).status_code == 400
    assert "count" in mailchimp_emulator.violations[0]["message"]
    mailchimp_emulator.clear_violations()


def test_records_and_clearing(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    api("GET", "ping")
    api("GET", f"lists/{list_id}", params={"fields": "id"})
    assert [(r["method"], r["path"], r["status"]) for r in emu.requests] == [
        ("GET", "/ping", 200),
        ("GET", f"/lists/{list_id}", 200),
    ]
    assert emu.requests[1]["query"] == {"fields": "id"}
    assert emu.requests[0]["api_key_suffix"] == api_key[-8:]
    assert emu.stats["totals"]["GET /lists/{listId}"] == 1
    emu.clear_requests()
    assert emu.requests == []
    emu.reset_stats()
    assert emu.stats["totals"] == {}


def test_fields_and_exclude_fields(mailchimp_account, mailchimp_client, api):
    _, _, list_id = mailchimp_account
    only = api("GET", "lists", params={"fields": "lists.id,lists.stats.member_count,total_items"}).json()
    assert only == {"lists": [{"id": list_id, "stats": {"member_count": 0}}], "total_items": 1}
    without = mailchimp_client.lists.get(list_id, exclude_fields="stats,contact.city,_links")
    assert "stats" not in without and "city" not in without["contact"] and without["contact"]["country"]
