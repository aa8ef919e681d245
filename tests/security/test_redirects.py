"""Only a 2xx from Mailchimp is a success, and a redirect is never followed (it would take the key along)."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shoop_mailchimp.mailchimp import resources
from shoop_mailchimp.mailchimp.errors import MailchimpRedirected
from shoop_mailchimp.mailchimp.transport import MailchimpSession
from shoop_mailchimp.models import MailchimpConfiguration, SyncState, SyncStatus
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.jobs import run_due_jobs
from tests.admin.conftest import post_shop_form, saved
from tests.helpers import make_all_due, new_person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.fixture
def elsewhere():
    """A server a redirect could point at; it answers like Mailchimp would and records who came."""
    visits = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            visits.append({"method": self.command, "path": self.path, "headers": dict(self.headers)})
            body = json.dumps({"id": "x", "status": "subscribed", "email_address": "x@fastmail.com"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_POST = do_PATCH = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.visits = visits
    server.url = "http://127.0.0.1:%s" % server.server_address[1]
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("status, to_elsewhere", [(302, False), (301, True), (302, True), (307, True), (308, True)])
def test_a_redirected_contact_is_retried_not_synced_and_the_shop_keeps_going(
    configuration, mailchimp_account, elsewhere, status, to_elsewhere
):
    emulator, api_key, list_id = mailchimp_account
    location = elsewhere.url + "/3.0/lists/%s/members/x" % list_id if to_elsewhere else None
    emulator.faults.redirect("/lists/*/members/*", status=status, location=location)

    person = new_person()

    state = SyncState.objects.contacts().get(object_id=person.pk)
    assert state.status == SyncStatus.PENDING and state.attempts == 1, "a transient failure, retried later"
    assert state.member_status != str(status) and state.last_synced_at is None
    assert "Redirected %s" % ("to " + location if location else "without a Location") in state.last_error
    assert elsewhere.visits == [], "the redirect was followed"
    assert emulator.get_member(api_key, list_id, person.email) is None
    assert MailchimpConfiguration.objects.get(pk=configuration.pk).paused_reason == "", "not an account problem"

    emulator.faults.clear()
    make_all_due()
    drain()
    assert SyncState.objects.contacts().get(object_id=person.pk).status == SyncStatus.SYNCED
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"


def test_the_client_raises_a_transient_error_naming_the_redirect(mailchimp_settings, mailchimp_account, elsewhere):
    emulator, api_key, _list_id = mailchimp_account
    emulator.faults.redirect("/ping", status=301, location=elsewhere.url + "/3.0/ping")
    with MailchimpSession(api_key) as session:
        with pytest.raises(MailchimpRedirected) as raised:
            resources.ping(session)
    assert raised.value.transient and raised.value.status == 301
    assert str(raised.value).startswith("301 Redirected to %s/3.0/ping" % elsewhere.url)
    assert api_key not in str(raised.value) and elsewhere.visits == []


def test_the_account_check_does_not_call_a_redirect_a_refused_key(shop, admin_client, mailchimp_settings,
                                                                  mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    emulator.faults.redirect("/ping", status=302)
    assert saved(post_shop_form(admin_client, shop, api_key=api_key, list_id=list_id, enabled=True))
    run_due_jobs()  # the drainer checks the key
    problem = MailchimpConfiguration.objects.get(shop=shop).account_problem
    assert problem.startswith("Could not check the key with Mailchimp: 302 Redirected without a Location"), problem
