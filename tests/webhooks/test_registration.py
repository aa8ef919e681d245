"""Initialization registers the webhook with the audience, once, and never fails because of it."""
import pytest

from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.mailchimp.transport import open_session
from shoop_mailchimp.models import LogKind, MailchimpConfiguration, MailchimpLogEntry
from shoop_mailchimp.webhook_registration import check_webhook, webhook_url
from tests.helpers import registered_webhooks
from tests.webhooks.helpers import configure_with_live_webhook

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.django_db  # no commit needed
def test_without_a_base_url_the_log_tells_the_url_to_paste(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    assert registered_webhooks(emulator, api_key, list_id) == []
    assert configuration.webhook_id == ""
    entry = MailchimpLogEntry.objects.get(action="webhook.register")
    assert entry.kind == LogKind.INFO
    assert "WEBHOOK_BASE_URL" in entry.message
    assert "status page" in entry.message
    assert configuration.webhook_secret not in entry.message, "the secret guards the endpoint: not in logs"
    assert configuration.api_key not in entry.message


def test_registers_once_and_mailchimp_verifies_the_url(settings, live_server, shop, mailchimp_settings,
                                                       mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    emulator.verify_webhooks = True  # Mailchimp GETs a new webhook URL and wants a 200
    configuration = configure_with_live_webhook(settings, live_server, shop, mailchimp_account)

    hooks = registered_webhooks(emulator, api_key, list_id)
    assert len(hooks) == 1
    hook = hooks[0]
    assert hook["id"] == configuration.webhook_id
    assert hook["url"] == webhook_url(configuration, live_server.url)
    assert hook["url"].startswith(live_server.url + "/mailchimp/webhook/%s/" % shop.pk)
    assert hook["events"] == {"subscribe": True, "unsubscribe": True, "profile": True, "cleaned": True,
                              "upemail": True, "campaign": False}
    assert hook["sources"] == {"user": True, "admin": True, "api": False}

    initialize(configuration)
    assert [h["id"] for h in registered_webhooks(emulator, api_key, list_id)] == [configuration.webhook_id]
    assert MailchimpConfiguration.objects.get(pk=configuration.pk).webhook_id == hook["id"]


def test_a_webhook_already_pointing_at_the_url_is_reused(settings, live_server, shop, mailchimp_settings,
                                                         mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, WEBHOOK_BASE_URL=live_server.url)
    configuration = MailchimpConfiguration.objects.create(shop=shop, api_key=api_key, list_id=list_id, enabled=True)
    session = open_session(configuration)
    url = webhook_url(configuration, live_server.url)
    existing = session.post("lists/%s/webhooks" % list_id, {"url": url})
    session.close()

    initialize(configuration)
    assert configuration.webhook_id == existing["id"]
    assert len(registered_webhooks(emulator, api_key, list_id)) == 1


@pytest.mark.django_db  # no commit needed
def test_a_refused_registration_is_logged_and_initialization_still_succeeds(settings, shop, mailchimp_settings,
                                                                           mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    emulator.verify_webhooks = True
    # Nothing answers there, so Mailchimp refuses the URL.
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, WEBHOOK_BASE_URL="http://127.0.0.1:9")
    configuration = MailchimpConfiguration.objects.create(shop=shop, api_key=api_key, list_id=list_id, enabled=True)

    initialize(configuration)

    configuration.refresh_from_db()
    assert configuration.is_initialized and configuration.webhook_id == ""
    error = MailchimpLogEntry.objects.get(action="webhook.register")
    assert error.kind == LogKind.ERROR
    assert error.extra["status"] == 400 and "verify the URL" in str(error.extra)
    assert error.extra["url"].startswith("http://127.0.0.1:9/mailchimp/webhook/")
    assert api_key not in str(error.extra) and api_key not in error.message
    assert registered_webhooks(emulator, api_key, list_id) == []


@pytest.mark.django_db  # no commit needed
def test_a_failing_mailchimp_does_not_stop_initialization(settings, shop, mailchimp_settings, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, WEBHOOK_BASE_URL="https://shop.fastmail.com")
    emulator.faults.fail("/lists/*/webhooks", status=503)
    configuration = MailchimpConfiguration.objects.create(shop=shop, api_key=api_key, list_id=list_id, enabled=True)

    initialize(configuration)

    configuration.refresh_from_db()
    assert configuration.is_initialized
    assert MailchimpLogEntry.objects.get(action="webhook.register").kind == LogKind.ERROR
    assert MailchimpLogEntry.objects.filter(action="initialize", message="Initialization finished").exists()


def test_the_status_page_says_whether_the_webhook_is_still_in_mailchimp(settings, live_server, shop, admin_client,
                                                                        mailchimp_settings, mailchimp_account):
    from django.urls import reverse

    emulator, api_key, list_id = mailchimp_account
    configuration = configure_with_live_webhook(settings, live_server, shop, mailchimp_account)
    status_url = reverse("shuup_admin:shoop_mailchimp.status")
    html = admin_client.get(status_url).content.decode()
    assert 'class="mailchimp-webhook-registered"' in html

    session = open_session(configuration)
    session.delete("lists/%s/webhooks/%s" % (list_id, configuration.webhook_id))  # someone, in Mailchimp
    session.close()
    emulator.clear_requests()
    html = admin_client.get(status_url).content.decode()
    assert 'class="mailchimp-webhook-registered"' in html, "the page shows what the drainer last found"
    assert emulator.requests == [], "the status page never calls Mailchimp"
    check_webhook(configuration)  # the drainer's periodic check
    html = admin_client.get(status_url).content.decode()
    assert 'class="mailchimp-webhook-missing text-danger"' in html

    emulator.faults.fail("/lists/*/webhooks", method="GET", status=503)
    check_webhook(configuration)
    html = admin_client.get(status_url).content.decode()
    assert 'class="mailchimp-webhook-unknown"' in html and "could not be checked" in html

    emulator.faults.clear()
    initialize(MailchimpConfiguration.objects.get(pk=configuration.pk))  # "Initialize" registers it again
    assert 'class="mailchimp-webhook-registered"' in admin_client.get(status_url).content.decode()
