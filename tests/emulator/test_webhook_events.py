"""``POST /_emulator/events``: a change made in Mailchimp updates the member, then reaches the webhooks."""

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests

from .conftest import md5

EMAIL = "ann.lee@fastmail.com"


@pytest.fixture
def receiver():
    """A webhook endpoint on 127.0.0.1 answering 200; ``receiver.forms`` holds the parsed POSTs."""
    forms = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            forms.append({key: values[0] for key, values in urllib.parse.parse_qs(
                self.rfile.read(length).decode()).items()})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.forms = forms
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def subscribed(mailchimp_account, api, receiver):
    """``(emulator, api_key, list_id)`` with Ann subscribed and the receiver registered as the webhook."""
    emu, api_key, list_id = mailchimp_account
    api("PUT", f"lists/{list_id}/members/{md5(EMAIL)}", json={
        "email_address": EMAIL, "status_if_new": "subscribed", "merge_fields": {"FNAME": "Ann", "LNAME": "Lee"}})
    api("POST", f"lists/{list_id}/webhooks", json={"url": receiver.url})
    return emu, api_key, list_id


def fire(emu, **body):
    return requests.post(f"{emu.root_url}/_emulator/events", json=body, timeout=15)


def test_unsubscribe_changes_the_member_and_reaches_the_webhook(subscribed, receiver):
    emu, api_key, list_id = subscribed
    response = fire(emu, api_key=api_key, list_id=list_id, type="unsubscribe", email=EMAIL)
    assert response.status_code == 200, response.text
    assert response.json()["member"]["status"] == "unsubscribed"
    assert response.json()["deliveries"] == [{"url": receiver.url, "status": 200}]
    assert emu.get_member(api_key, list_id, EMAIL)["status"] == "unsubscribed"
    [form] = receiver.forms
    assert form["type"] == "unsubscribe"
    assert form["data[email]"] == EMAIL
    assert form["data[list_id]"] == list_id
    assert form["data[id]"] == emu.get_member(api_key, list_id, EMAIL)["unique_email_id"]
    assert (form["data[action]"], form["data[reason]"]) == ("unsub", "manual")
    assert (form["data[merges][FNAME]"], form["data[merges][EMAIL]"]) == ("Ann", EMAIL)


@pytest.mark.parametrize("event_type, status", [("cleaned", "cleaned"), ("subscribe", "subscribed")])
def test_status_events(subscribed, receiver, event_type, status):
    emu, api_key, list_id = subscribed
    emu.set_member_status(api_key, list_id, EMAIL, "unsubscribed")
    assert fire(emu, api_key=api_key, list_id=list_id, type=event_type, email=EMAIL).status_code == 200
    assert emu.get_member(api_key, list_id, EMAIL)["status"] == status
    assert [(form["type"], form["data[email]"]) for form in receiver.forms] == [(event_type, EMAIL)]


def test_subscribe_through_a_signup_form_creates_the_member(subscribed, receiver):
    emu, api_key, list_id = subscribed
    response = fire(emu, api_key=api_key, list_id=list_id, type="subscribe", email="new@fastmail.com",
                    merges={"FNAME": "Neo"})
    assert response.json()["member"]["status"] == "subscribed"
    assert emu.get_member(api_key, list_id, "new@fastmail.com")["merge_fields"]["FNAME"] == "Neo"
    assert receiver.forms[0]["data[merges][FNAME]"] == "Neo"


def test_profile_updates_merge_fields_and_keeps_the_status(subscribed, receiver):
    emu, api_key, list_id = subscribed
    fire(emu, api_key=api_key, list_id=list_id, type="profile", email=EMAIL, merges={"FNAME": "Anna"})
    member = emu.get_member(api_key, list_id, EMAIL)
    assert (member["status"], member["full_name"]) == ("subscribed", "Anna Lee")
    assert (receiver.forms[0]["type"], receiver.forms[0]["data[merges][FNAME]"]) == ("profile", "Anna")


def test_upemail_readdresses_the_member(subscribed, receiver):
    emu, api_key, list_id = subscribed
    response = fire(emu, api_key=api_key, list_id=list_id, type="upemail", email=EMAIL, new_email="ann@new.example")
    assert response.json()["member"]["id"] == md5("ann@new.example")
    assert emu.get_member(api_key, list_id, EMAIL) is None
    assert emu.get_member(api_key, list_id, "ann@new.example")["status"] == "subscribed"
    [form] = receiver.forms
    assert (form["type"], form["data[old_email]"], form["data[new_email]"]) == ("upemail", EMAIL, "ann@new.example")
    assert form["data[new_id]"] == emu.get_member(api_key, list_id, "ann@new.example")["unique_email_id"]


def test_only_webhooks_listening_to_the_event_and_its_source_are_called(mailchimp_account, api, receiver):
    emu, api_key, list_id = mailchimp_account
    api("PUT", f"lists/{list_id}/members/{md5(EMAIL)}", json={"email_address": EMAIL, "status_if_new": "subscribed"})
    api("POST", f"lists/{list_id}/webhooks", json={
        "url": receiver.url, "events": {"cleaned": False}, "sources": {"user": True, "admin": True, "api": False}})
    fire(emu, api_key=api_key, list_id=list_id, type="profile", email=EMAIL, source="api")
    fire(emu, api_key=api_key, list_id=list_id, type="cleaned", email=EMAIL, source="admin")
    assert receiver.forms == []
    assert emu.get_member(api_key, list_id, EMAIL)["status"] == "cleaned"
    fire(emu, api_key=api_key, list_id=list_id, type="profile", email=EMAIL, source="admin")
    assert [form["type"] for form in receiver.forms] == ["profile"]


def test_refusals(subscribed, receiver):
    emu, api_key, list_id = subscribed
    unknown = fire(emu, api_key=api_key, list_id=list_id, type="unsubscribe", email="nobody@fastmail.com")
    assert unknown.status_code == 404
    assert fire(emu, api_key=api_key, list_id="nolist", type="unsubscribe", email=EMAIL).status_code == 404
    assert fire(emu, api_key=api_key, list_id=list_id, type="campaign", email=EMAIL).status_code == 400
    assert fire(emu, api_key=api_key, list_id=list_id, type="unsubscribe").status_code == 400
    fire(emu, api_key=api_key, list_id=list_id, type="subscribe", email="bob@fastmail.com")
    taken = fire(emu, api_key=api_key, list_id=list_id, type="upemail", email=EMAIL, new_email="bob@fastmail.com")
    assert taken.status_code == 400
    assert emu.get_member(api_key, list_id, EMAIL)["status"] == "subscribed"
    assert [form["type"] for form in receiver.forms] == ["subscribe"]


def test_a_signup_after_a_permanent_delete_is_a_new_member_the_api_may_write(subscribed, receiver, api):
    """A member deleted for good cannot be written by the API ("must re-subscribe"); its owner's signup on a form
    makes a new one (another unique_email_id, the one its webhook names), which the API may write from then on."""
    emu, api_key, list_id = subscribed
    first = emu.get_member(api_key, list_id, EMAIL)["unique_email_id"]
    assert api("POST", f"lists/{list_id}/members/{md5(EMAIL)}/actions/delete-permanent").status_code == 204
    body = {"email_address": EMAIL, "status_if_new": "subscribed"}
    assert api("PUT", f"lists/{list_id}/members/{md5(EMAIL)}", json=body).status_code == 400
    response = fire(emu, api_key=api_key, list_id=list_id, type="subscribe", email=EMAIL, merges={"FNAME": "Fay"})
    again = response.json()["member"]
    assert again["unique_email_id"] != first
    [form] = receiver.forms
    assert (form["type"], form["data[id]"]) == ("subscribe", again["unique_email_id"])
    written = api("PUT", f"lists/{list_id}/members/{md5(EMAIL)}", json=dict(body, merge_fields={"LNAME": "Form"}))
    assert written.status_code == 200, written.text
    assert written.json()["unique_email_id"] == again["unique_email_id"]


def test_a_cleaned_event_names_the_address_only(subscribed, receiver):
    emu, api_key, list_id = subscribed
    fire(emu, api_key=api_key, list_id=list_id, type="cleaned", email=EMAIL)
    [form] = receiver.forms
    assert set(form) == {"type", "fired_at", "data[email]", "data[reason]", "data[list_id]"}
