"""Members, tags, forgotten e-mails, interest categories, interests and webhooks."""

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from mailchimp3.mailchimpclient import MailChimpError

from .conftest import md5, put_member

EMAIL = "Ann.Smith@Gmail.com"
#: A new audience's merge fields, all empty: Mailchimp shows every one on every member.
EMPTY_FIELDS = {"FNAME": "", "LNAME": "", "ADDRESS": "", "PHONE": "", "BIRTHDAY": ""}


def test_put_upsert_creates_with_status_if_new(mailchimp_account, mailchimp_client):
    emu, api_key, list_id = mailchimp_account
    member = mailchimp_client.lists.members.create_or_update(
        list_id,
        md5(EMAIL),
        {"email_address": EMAIL, "status_if_new": "transactional", "merge_fields": {"FNAME": "Ann"}},
    )
    assert member["id"] == md5(EMAIL)
    assert member["status"] == "transactional"
    assert member["list_id"] == list_id
    assert len(member["unique_email_id"]) == 10
    assert emu.get_member(api_key, list_id, EMAIL.lower())["merge_fields"] == dict(EMPTY_FIELDS, FNAME="Ann")


def test_put_never_overwrites_status_without_status(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    put_member(api, list_id, EMAIL, status_if_new="subscribed")
    emu.set_member_status(api_key, list_id, EMAIL, "unsubscribed")
    again = put_member(api, list_id, EMAIL, status_if_new="subscribed", merge_fields={"LNAME": "Smith"})
    assert again.status_code == 200
    assert again.json()["status"] == "unsubscribed"
    assert again.json()["merge_fields"] == dict(EMPTY_FIELDS, LNAME="Smith")
    explicit = put_member(api, list_id, EMAIL, status="transactional")
    assert explicit.json()["status"] == "transactional"


def test_put_validates_email_and_hash(mailchimp_account, api):
    _, _, list_id = mailchimp_account
    bad = api(
        "PUT",
        f"lists/{list_id}/members/{md5('not-an-email')}",
        json={"email_address": "not-an-email", "status_if_new": "subscribed"},
    )
    assert bad.status_code == 400
    assert bad.json()["detail"] == "Please provide a valid email address."
    mismatch = api(
        "PUT",
        f"lists/{list_id}/members/{md5('a@gmail.com')}",
        json={"email_address": "b@gmail.com", "status_if_new": "subscribed"},
    )
    assert mismatch.status_code == 400


def test_internationalized_domains_are_taken_in_punycode_only_and_kept_as_sent(mailchimp_account, api):
    """As the shop assumes Mailchimp does (docs/emulator.rst, "Internationalized domains"): a non-ASCII domain is
    refused; a punycode one, an internationalized top-level domain too, is taken as sent, never decoded nor folded
    (IDNA 2008's straße.de and IDNA 2003's strasse.de are two members)."""
    emu, api_key, list_id = mailchimp_account
    refused = put_member(api, list_id, "anna@straße.de")
    assert (refused.status_code, refused.json()["detail"]) == (400, "Please provide a valid email address.")
    for email in ("anna@xn--strae-oqa.de", "anna@strasse.de", "Kontakt@XN--E1AFMKFD.XN--P1AI"):
        response = put_member(api, list_id, email)
        assert response.status_code == 200, response.text
        assert response.json()["email_address"] == email
    assert sorted(member["email_address"] for member in emu.members(api_key, list_id)) == [
        "Kontakt@XN--E1AFMKFD.XN--P1AI", "anna@strasse.de", "anna@xn--strae-oqa.de"]
    assert api("GET", f"lists/{list_id}/members/{md5('kontakt@xn--e1afmkfd.xn--p1ai')}").status_code == 200


def test_put_without_status_if_new_is_a_violation(mailchimp_emulator, mailchimp_account, api):
    _, _, list_id = mailchimp_account
    response = api("PUT", f"lists/{list_id}/members/{md5(EMAIL)}", json={"email_address": EMAIL})
    assert response.status_code == 400
    assert response.json()["title"] == "Invalid Resource"
    assert "status_if_new" in mailchimp_emulator.violations[0]["message"]
    mailchimp_emulator.clear_violations()


def test_post_patch_get_delete(mailchimp_account, mailchimp_client, api):
    emu, api_key, list_id = mailchimp_account
    created = mailchimp_client.lists.members.create(list_id, {"email_address": EMAIL, "status": "subscribed"})
    assert created["status"] == "subscribed"
    with pytest.raises(MailChimpError) as info:
        mailchimp_client.lists.members.create(list_id, {"email_address": EMAIL, "status": "subscribed"})
    assert info.value.args[0]["title"] == "Member Exists"
    patched = mailchimp_client.lists.members.update(list_id, md5(EMAIL), {"status": "unsubscribed"})
    assert patched["status"] == "unsubscribed"
    assert mailchimp_client.lists.members.get(list_id, md5(EMAIL))["status"] == "unsubscribed"
    assert api("GET", f"lists/{list_id}/members/{md5('nobody@gmail.com')}").status_code == 404
    listing = api("GET", f"lists/{list_id}/members", params={"status": "unsubscribed"}).json()
    assert listing["total_items"] == 1
    assert api("DELETE", f"lists/{list_id}/members/{md5(EMAIL)}").status_code == 204
    assert emu.get_member(api_key, list_id, EMAIL)["status"] == "archived"
    assert mailchimp_client.lists.get(list_id)["stats"]["member_count"] == 0


def test_a_patch_readdressing_a_subscribed_member_as_pending_mails_the_new_address_a_link(mailchimp_account, api):
    """PATCH ``email_address`` with ``status: pending`` (the shop's move of a subscription to an address nobody
    proved, under double opt-in): the member is readdressed and pending, and the confirmation goes to the new
    address (Mailchimp mails a link to a member asked ``pending``, spatie/laravel-newsletter#158)."""
    emu, api_key, list_id = mailchimp_account
    assert put_member(api, list_id, status="subscribed").status_code == 200
    moved = api("PATCH", f"lists/{list_id}/members/{md5(EMAIL)}",
                json={"email_address": "moved.away@gmail.com", "status": "pending"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["email_address"], moved.json()["status"]) == ("moved.away@gmail.com", "pending")
    assert emu.get_member(api_key, list_id, EMAIL) is None
    assert [item["email_address"] for item in emu.confirmations(api_key)] == ["moved.away@gmail.com"]


def test_delete_permanent_forgets_email(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    put_member(api, list_id, EMAIL)
    response = api("POST", f"lists/{list_id}/members/{md5(EMAIL)}/actions/delete-permanent")
    assert response.status_code == 204 and response.content == b""
    assert emu.get_member(api_key, list_id, EMAIL) is None
    again = put_member(api, list_id, EMAIL)
    assert again.status_code == 400
    assert again.json()["title"] == "Forgotten Email Not Subscribed"
    posted = api("POST", f"lists/{list_id}/members", json={"email_address": EMAIL, "status": "subscribed"})
    assert posted.json()["title"] == "Forgotten Email Not Subscribed"


def test_tags(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    put_member(api, list_id, EMAIL)
    url = f"lists/{list_id}/members/{md5(EMAIL)}/tags"
    body = {"tags": [{"name": "VIP", "status": "active"}, {"name": "Shop", "status": "active"}]}
    assert api("POST", url, json=body).status_code == 204
    assert api("POST", url, json={"tags": [{"name": "Shop", "status": "inactive"}]}).status_code == 204
    tags = api("GET", url).json()
    assert [t["name"] for t in tags["tags"]] == ["VIP"]
    assert emu.get_member(api_key, list_id, EMAIL)["tags"][0]["name"] == "VIP"


def test_tag_names_are_one_tag_regardless_of_case(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    put_member(api, list_id, EMAIL)
    put_member(api, list_id, email="bo@gmail.com")
    url = f"lists/{list_id}/members/{md5(EMAIL)}/tags"
    assert api("POST", url, json={"tags": [{"name": "VIP", "status": "active"}]}).status_code == 204
    api("POST", url, json={"tags": [{"name": "vip", "status": "active"}]})
    assert [t["name"] for t in emu.get_member(api_key, list_id, EMAIL)["tags"]] == ["VIP"]
    other = f"lists/{list_id}/members/{md5('bo@gmail.com')}/tags"
    api("POST", other, json={"tags": [{"name": "vIp", "status": "active"}]})
    assert [t["name"] for t in emu.get_member(api_key, list_id, "bo@gmail.com")["tags"]] == ["VIP"]
    api("POST", url, json={"tags": [{"name": "vip", "status": "inactive"}]})
    assert emu.get_member(api_key, list_id, EMAIL)["tags"] == []


def test_tags_without_status_is_a_violation(mailchimp_emulator, mailchimp_account, api):
    _, _, list_id = mailchimp_account
    put_member(api, list_id, EMAIL)
    response = api("POST", f"lists/{list_id}/members/{md5(EMAIL)}/tags", json={"tags": [{"name": "VIP"}]})
    assert response.status_code == 400
    assert "status" in response.json()["detail"]
    assert len(mailchimp_emulator.violations) == 1
    mailchimp_emulator.clear_violations()


def test_tags_never_change_the_members_status_and_removing_a_missing_tag_is_a_no_op(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    put_member(api, list_id, EMAIL, status_if_new="unsubscribed")
    url = f"lists/{list_id}/members/{md5(EMAIL)}/tags"
    body = {"tags": [{"name": "customer", "status": "active"}, {"name": "never added", "status": "inactive"}]}
    assert api("POST", url, json=body).status_code == 204
    member = emu.get_member(api_key, list_id, EMAIL)
    assert member["status"] == "unsubscribed"
    assert [t["name"] for t in member["tags"]] == ["customer"] and member["tags_count"] == 1


def test_a_refused_tags_request_changes_no_tag(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    put_member(api, list_id, EMAIL)
    url = f"lists/{list_id}/members/{md5(EMAIL)}/tags"
    too_long = {"tags": [{"name": "first", "status": "active"}, {"name": "x" * 101, "status": "active"}]}
    response = api("POST", url, json=too_long)
    assert response.status_code == 400 and "100 characters" in response.json()["detail"]
    blank = api("POST", url, json={"tags": [{"name": "  ", "status": "active"}]})
    assert blank.status_code == 400
    assert emu.get_member(api_key, list_id, EMAIL)["tags"] == []


def test_tags_of_an_unknown_member_are_not_found(mailchimp_account, api):
    _, _, list_id = mailchimp_account
    response = api("POST", f"lists/{list_id}/members/{md5('nobody@gmail.com')}/tags",
                   json={"tags": [{"name": "customer", "status": "active"}]})
    assert response.status_code == 404


def test_interest_categories_and_interests(mailchimp_account, mailchimp_client, api):
    emu, api_key, list_id = mailchimp_account
    category = mailchimp_client.lists.interest_categories.create(list_id, {"title": "Groups", "type": "hidden"})
    vip = mailchimp_client.lists.interest_categories.interests.create(list_id, category["id"], {"name": "VIP"})
    retail = mailchimp_client.lists.interest_categories.interests.create(list_id, category["id"], {"name": "Retail"})
    with pytest.raises(MailChimpError) as info:
        mailchimp_client.lists.interest_categories.interests.create(list_id, category["id"], {"name": "VIP"})
    assert info.value.args[0]["status"] == 400
    member = put_member(api, list_id, EMAIL, interests={vip["id"]: True}).json()
    assert member["interests"] == {vip["id"]: True, retail["id"]: False}
    unknown = put_member(api, list_id, EMAIL, interests={"nonexistent": True})
    assert unknown.status_code == 400
    assert (
        mailchimp_client.lists.interest_categories.interests.get(list_id, category["id"], vip["id"])["subscriber_count"]
        == "1"
    )
    renamed = mailchimp_client.lists.interest_categories.interests.update(
        list_id, category["id"], retail["id"], {"name": "Wholesale"}
    )
    assert renamed["name"] == "Wholesale"
    mailchimp_client.lists.interest_categories.update(
        list_id, category["id"], {"title": "Customer groups", "type": "hidden"}
    )
    categories = emu.interest_categories(api_key, list_id)
    assert categories[0]["title"] == "Customer groups"
    assert sorted(i["name"] for i in categories[0]["interests"]) == ["VIP", "Wholesale"]
    assert (
        api(
            "DELETE", f"lists/{list_id}/interest-categories/{category['id']}/interests/{vip['id']}"
        ).status_code
        == 204
    )
    assert vip["id"] not in emu.get_member(api_key, list_id, EMAIL)["interests"]
    listing = mailchimp_client.lists.interest_categories.interests.all(list_id, category["id"], get_all=True)
    assert [i["name"] for i in listing["interests"]] == ["Wholesale"]
    assert api("DELETE", f"lists/{list_id}/interest-categories/{category['id']}").status_code == 204
    assert mailchimp_client.lists.interest_categories.all(list_id)["total_items"] == 0
    assert emu.get_member(api_key, list_id, EMAIL)["interests"] == {}


def test_webhooks(mailchimp_account, mailchimp_client, api):
    _, _, list_id = mailchimp_account
    # mailchimp3's own webhooks.create refuses loopback URLs, so register this one with plain requests.
    hook = api(
        "POST",
        f"lists/{list_id}/webhooks",
        json={
            "url": "http://127.0.0.1:9/hook?secret=s",
            "events": {"unsubscribe": True, "subscribe": False},
            "sources": {"user": True, "admin": True, "api": False},
        },
    ).json()
    assert hook["events"]["unsubscribe"] is True and hook["events"]["subscribe"] is False
    assert mailchimp_client.lists.webhooks.get(list_id, hook["id"])["url"].endswith("secret=s")
    assert mailchimp_client.lists.webhooks.all(list_id)["total_items"] == 1
    assert api("DELETE", f"lists/{list_id}/webhooks/{hook['id']}").status_code == 204
    assert api("GET", f"lists/{list_id}/webhooks/{hook['id']}").status_code == 404


def test_deliver_webhook_posts_form_events(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received.append(urllib.parse.parse_qs(self.rfile.read(length).decode()))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        api("POST", f"lists/{list_id}/webhooks", json={"url": url, "events": {"subscribe": False}})
        assert emu.deliver_webhook(api_key, list_id, "subscribe", {"email": EMAIL}) == []
        outcome = emu.deliver_webhook(
            api_key, list_id, "unsubscribe", {"email": EMAIL, "reason": "manual", "merges": {"FNAME": "Ann"}}
        )
    finally:
        server.shutdown()
        server.server_close()
    assert outcome == [(url, 200)]
    form = received[0]
    assert form["type"] == ["unsubscribe"]
    assert form["data[email]"] == [EMAIL]
    assert form["data[list_id]"] == [list_id]
    assert form["data[merges][FNAME]"] == ["Ann"]
    assert len(form["fired_at"][0]) == len("2024-01-01 00:00:00")


def test_private_webhooks_rejected_when_not_allowed(mailchimp_account, api):
    emu, _, list_id = mailchimp_account
    emu.allow_private_webhooks = False  # reset() restores the constructor's setting
    for url in ("http://127.0.0.1/hook", "http://10.1.2.3/hook", "http://localhost/x"):
        assert api("POST", f"lists/{list_id}/webhooks", json={"url": url}).status_code == 400
    public = api("POST", f"lists/{list_id}/webhooks", json={"url": "https://shop.test/hook"})
    assert public.status_code == 200


def test_mailchimp3_tags_and_delete_permanent(mailchimp_account, mailchimp_client):
    emu, api_key, list_id = mailchimp_account
    put_body = {"email_address": EMAIL, "status_if_new": "subscribed"}
    mailchimp_client.lists.members.create_or_update(list_id, md5(EMAIL), put_body)
    tags = {"tags": [{"name": "Shop", "status": "active"}]}
    assert mailchimp_client.lists.members.tags.update(list_id, md5(EMAIL), tags) is None
    assert [t["name"] for t in mailchimp_client.lists.members.tags.all(list_id, md5(EMAIL))["tags"]] == ["Shop"]
    assert mailchimp_client.lists.members.delete_permanent(list_id, md5(EMAIL)) is None
    assert emu.members(api_key, list_id) == []


def test_verify_webhooks_checks_the_url_with_get(mailchimp_account, api):
    emu, _, list_id = mailchimp_account
    emu.verify_webhooks = True  # reset() restores the constructor's setting

    class Receiver(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/ok" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert api("POST", f"lists/{list_id}/webhooks", json={"url": base + "/ok"}).status_code == 200
        refused = api("POST", f"lists/{list_id}/webhooks", json={"url": base + "/missing"})
    finally:
        server.shutdown()
        server.server_close()
    assert refused.status_code == 400
    assert "verify" in refused.json()["errors"][0]["message"]


def test_members_changed_since_a_time_come_in_pages_oldest_change_first(mailchimp_account, api):
    import datetime

    emu, api_key, list_id = mailchimp_account
    emu.add_members(api_key, list_id, ["old.%d@fastmail.com" % n for n in range(3)])
    hour_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    for n in range(3):
        emu.edit_member_by_hand(api_key, list_id, "old.%d@fastmail.com" % n,
                                last_changed=hour_ago - datetime.timedelta(minutes=n))
    emu.add_members(api_key, list_id, ["new.%d@fastmail.com" % n for n in range(5)])
    emu.edit_member_by_hand(api_key, list_id, "new.4@fastmail.com", status="unsubscribed",
                            last_changed=hour_ago + datetime.timedelta(minutes=1))

    since = hour_ago.replace(microsecond=0).isoformat()
    first = api("GET", f"lists/{list_id}/members", params={
        "since_last_changed": since, "count": 2, "offset": 0, "sort_field": "last_changed", "sort_dir": "ASC",
        "fields": "total_items,members.email_address,members.status"}).json()
    assert first["total_items"] == 5  # changed strictly after: not old.0, changed at that very second
    assert first["members"][0] == {"email_address": "new.4@fastmail.com", "status": "unsubscribed"}
    rest = api("GET", f"lists/{list_id}/members", params={
        "since_last_changed": since, "count": 10, "offset": 2, "sort_field": "last_changed"}).json()
    assert len(rest["members"]) == 3 and rest["total_items"] == 5
    everyone = api("GET", f"lists/{list_id}/members", params={"count": 1000}).json()
    assert everyone["total_items"] == 8

    bad = api("GET", f"lists/{list_id}/members", params={"since_last_changed": "yesterday"})
    assert bad.status_code == 400
    assert "since_last_changed" in bad.json()["detail"]


def test_a_hand_made_change_fires_no_webhook_and_a_deleted_member_cannot_come_back(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    put_member(api, list_id, EMAIL)
    emu.edit_member_by_hand(api_key, list_id, EMAIL, new_email="ann.new@fastmail.com", status="unsubscribed")
    member = emu.get_member(api_key, list_id, "ann.new@fastmail.com")
    assert (member["status"], member["unsubscribe_reason"]) == ("unsubscribed", "N/A (by an admin)")
    assert emu.get_member(api_key, list_id, EMAIL) is None
    assert emu.edit_member_by_hand(api_key, list_id, "ann.new@fastmail.com", delete=True) is None
    again = put_member(api, list_id, email="ann.new@fastmail.com")
    assert again.status_code == 400
    assert again.json()["title"] == "Forgotten Email Not Subscribed"
