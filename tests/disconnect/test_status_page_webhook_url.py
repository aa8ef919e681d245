"""Found by independent review nu57 (issue 19) of 243957f, F6 (fixed: the status page builds the URL from
WEBHOOK_BASE_URL). the status page's "Webhook URL (Audience > Settings > Webhooks)" is built from the admin request's
host, not from ``SHOOP_MAILCHIMP["WEBHOOK_BASE_URL"]``, the base the shop registers the webhook with.

Harm: the row tells the owner which URL to find (or paste) under Audience > Settings > Webhooks. Where the admin is
opened on another host than the public one (an internal admin host, the IP, a TLS-terminating proxy without
``SECURE_PROXY_SSL_HEADER``: ``http://`` instead of ``https://``), the URL shown is not the one registered: the owner
looking for it in Mailchimp does not find it, or adds a second, wrong webhook by hand. Seen in the demo's staging copy:
WEBHOOK_BASE_URL http://staging.localhost:8158, the row shows http://127.0.0.1:8158/mailchimp/...

Steps: a connected shop with WEBHOOK_BASE_URL https://shop.example.com; open the status page (the test client's host is
``testserver``).

Control: the webhook the emulator holds is registered at https://shop.example.com/... (``registered_webhooks``)."""
import pytest

from tests.admin.conftest import url
from tests.helpers import registered_webhooks

pytestmark = pytest.mark.django_db


def test_the_status_page_shows_the_webhook_url_mailchimp_calls(admin_client, connected, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    [webhook] = registered_webhooks(emulator, api_key, list_id)
    assert webhook["url"].startswith("https://shop.example.com/")  # control: what Mailchimp calls
    html = admin_client.get(url("status")).content.decode("utf-8")
    assert webhook["url"] in html, "the page shows another webhook URL than the registered %s" % webhook["url"]
