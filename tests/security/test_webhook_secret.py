"""The webhook secret: seen only by staff who may manage the sync, never logged, replaceable at will."""
import logging
import threading

import pytest
import requests
from django.core import mail
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.urls import reverse
from django.utils.log import AdminEmailHandler
from shuup.core.models import Contact, Shop, ShopStatus

from shoop_mailchimp import webhooks
from shoop_mailchimp.admin_module.permissions import MANAGE_PERMISSION, VIEW_PERMISSION
from shoop_mailchimp.models import MailchimpConfiguration, MailchimpLogEntry
from tests.helpers import new_person, registered_webhooks, staff_member
from tests.webhooks.helpers import configure_with_live_webhook, mailchimp_form, webhook_path

pytestmark = pytest.mark.django_db(transaction=True)

STATUS = "/sa/mailchimp/"
ROTATE = "/sa/mailchimp/webhook/rotate/"


@pytest.mark.django_db  # no commit needed
def test_admin_urls_are_where_these_tests_look():
    assert reverse("shuup_admin:shoop_mailchimp.status") == STATUS
    assert reverse("shuup_admin:shoop_mailchimp.rotate_webhook_secret") == ROTATE


@pytest.mark.django_db  # no commit needed
def test_only_staff_who_may_manage_the_sync_see_the_secret(configuration, client, viewer, manager):
    secret = configuration.webhook_secret
    client.force_login(viewer)
    page = client.get(STATUS).content.decode()
    assert secret not in page
    assert "/mailchimp/webhook/%s/&lt;secret&gt;/" % configuration.shop_id in page
    assert "mailchimp-rotate-webhook-secret" not in page

    client.force_login(manager)
    page = client.get(STATUS).content.decode()
    assert "/mailchimp/webhook/%s/%s/" % (configuration.shop_id, secret) in page
    assert "mailchimp-rotate-webhook-secret" in page


def listen_to(monkeypatch, name):
    """The test settings' LOGGING disables Django's loggers; projects keep them on."""
    logger = logging.getLogger(name)
    monkeypatch.setattr(logger, "disabled", False)
    return logger


@pytest.fixture
def request_log(caplog, monkeypatch):
    """Records of Django's request logger, and an admin error e-mail for each error among them."""
    logger = listen_to(monkeypatch, "django.request")
    mailer = AdminEmailHandler()
    mailer.setLevel(logging.ERROR)
    logger.addHandler(mailer)
    caplog.set_level(logging.DEBUG, logger="django.request")
    yield caplog
    logger.removeHandler(mailer)


@pytest.mark.django_db  # no commit needed
def test_the_request_log_and_error_mails_never_carry_the_secret(configuration, client, request_log, settings,
                                                                 monkeypatch):
    settings.ADMINS = [("Admin", "admin@fastmail.com")]
    secret = configuration.webhook_secret
    path = webhook_path(configuration)
    assert client.post(path, {"type": "nonsense"}).status_code == 400
    assert client.put(path).status_code == 405
    assert client.delete(path).status_code == 405
    assert client.post(webhook_path(configuration, secret="guess")).status_code == 403
    monkeypatch.setattr(webhooks, "handle_event", lambda *args: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        client.post(path, mailchimp_form("unsubscribe", configuration.list_id, email="a@fastmail.com"))

    records = [record for record in request_log.records if record.name == "django.request"]
    messages = [record.getMessage() for record in records]
    masked = "/mailchimp/webhook/%s/<secret>/" % configuration.shop_id
    assert all(message.endswith(": " + masked) for message in messages), messages
    for kind in ("Bad Request", "Method Not Allowed (PUT)", "Method Not Allowed (DELETE)", "Forbidden",
                 "Internal Server Error"):
        assert kind + ": " + masked in messages, kind
    for record in records:
        assert secret not in record.request.path + record.request.get_full_path() + str(record.request.META)
    assert mail.outbox, "the error was mailed to the admins"
    for error_mail in mail.outbox:
        assert masked in error_mail.subject and masked in error_mail.body
        assert secret not in error_mail.subject + error_mail.body


class RecordsSeen(logging.Handler):
    """Keeps the records its logger handles; ``all_seen`` is set once ``count`` of them came."""

    def __init__(self, count):
        super().__init__()
        self.count, self.records, self.all_seen = count, [], threading.Event()

    def emit(self, record):
        self.records.append(record)
        if len(self.records) >= self.count:
            self.all_seen.set()


@pytest.fixture
def runserver():
    """Django's development server (``manage.py runserver``'s classes) in a thread, logging as it does."""
    server = ThreadedWSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(WSGIHandler())  # not get_wsgi_application(): its django.setup() would reconfigure logging
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%s" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_development_servers_access_log_never_carries_the_secret(configuration, runserver, caplog, monkeypatch):
    logger = listen_to(monkeypatch, "django.server")  # it does not propagate: listen to it directly
    logged = RecordsSeen(2)  # the server logs a request after answering it: wait for both lines
    logger.addHandler(caplog.handler)
    logger.addHandler(logged)
    try:
        path = webhook_path(configuration)
        assert requests.get(runserver + path).status_code == 200
        assert requests.put(runserver + path + "?x=1").status_code == 405
        assert logged.all_seen.wait(10), "the server logged %d of its 2 requests" % len(logged.records)
    finally:
        logger.removeHandler(logged)
        logger.removeHandler(caplog.handler)
    lines = [record.getMessage() for record in caplog.records if record.name == "django.server"]
    masked = "/mailchimp/webhook/%s/<secret>/" % configuration.shop_id
    assert ['"GET %s HTTP/1.1" 200 2' % masked, '"PUT %s?x=1 HTTP/1.1" 405 0' % masked] == lines
    assert configuration.webhook_secret not in caplog.text


@pytest.mark.parametrize("shop_id, status", [
    ("9" * 23, 403), ("9" * 19, 403), ("0" * 30 + "1", 403), ("9" * 18, 403),  # no such shop
    ("\uff11", 404), ("\u0661", 404), ("-1", 404), ("1e3", 404),  # not ids: Shuup's front answers (405 to a POST)
])
@pytest.mark.django_db  # no commit needed
def test_shop_ids_no_shop_has_change_nothing_and_raise_nothing(configuration, client, shop_id, status):
    person = new_person()
    path = "/mailchimp/webhook/%s/%s/" % (shop_id, configuration.webhook_secret)
    assert client.get(path).status_code == status
    posted = client.post(path, mailchimp_form("unsubscribe", configuration.list_id, email=person.email))
    assert posted.status_code == (status if status == 403 else 405)
    assert Contact.objects.get(pk=person.pk).marketing_permission


@pytest.fixture
def live_webhook(settings, live_server, shop, mailchimp_settings, mailchimp_account):
    """An initialized shop whose webhook Mailchimp (the emulator, checking the URL first) calls on the live server."""
    mailchimp_account[0].verify_webhooks = True
    return configure_with_live_webhook(settings, live_server, shop, mailchimp_account)

def test_rotating_refuses_the_old_url_and_moves_mailchimps_webhook(live_webhook, live_server, mailchimp_account,
                                                                   client, manager):
    emulator, api_key, list_id = mailchimp_account
    old_secret, old_webhook_id = live_webhook.webhook_secret, live_webhook.webhook_id
    old_url = live_server.url + webhook_path(live_webhook)
    person = new_person()
    client.force_login(manager)

    response = client.post(ROTATE)

    assert response.status_code == 302 and response["Location"] == STATUS
    rotated = MailchimpConfiguration.objects.get(pk=live_webhook.pk)
    assert rotated.webhook_secret != old_secret and rotated.webhook_id not in ("", old_webhook_id)
    [hook] = registered_webhooks(*mailchimp_account)
    assert (hook["id"], hook["url"]) == (rotated.webhook_id, live_server.url + webhook_path(rotated))
    forged = requests.post(old_url, data=mailchimp_form("unsubscribe", list_id, email=person.email))
    assert forged.status_code == 403 and Contact.objects.get(pk=person.pk).marketing_permission
    assert emulator.deliver_webhook(api_key, list_id, "unsubscribe", {"email": person.email}) == [(hook["url"], 200)]
    assert not Contact.objects.get(pk=person.pk).marketing_permission
    entries = MailchimpLogEntry.objects.filter(action__in=("webhook.rotate", "webhook.register", "webhook.delete"),
                                               user=manager)
    assert sorted(entries.values_list("action", flat=True)) == ["webhook.delete", "webhook.register",
                                                                 "webhook.rotate"]
    for entry in entries:
        assert rotated.webhook_secret not in entry.message + str(entry.extra)


def test_without_mailchimp_the_old_secret_still_dies_and_the_next_rotation_cleans_up(
    live_webhook, live_server, mailchimp_account, client, manager
):
    emulator = mailchimp_account[0]
    old_url, old_webhook_id = live_server.url + webhook_path(live_webhook), live_webhook.webhook_id
    emulator.faults.fail("/lists/*/webhooks", status=503, method="POST")
    client.force_login(manager)

    client.post(ROTATE)

    assert requests.get(old_url).status_code == 403
    assert MailchimpConfiguration.objects.get(pk=live_webhook.pk).webhook_id == old_webhook_id, "kept to delete later"
    assert [hook["id"] for hook in registered_webhooks(*mailchimp_account)] == [old_webhook_id]
    assert MailchimpLogEntry.objects.filter(action="webhook.register", kind="error").exists()
    assert MailchimpConfiguration.objects.get(pk=live_webhook.pk).webhook_state == "missing", "the page warns"
    status = client.get(reverse("shuup_admin:shoop_mailchimp.status")).content.decode()
    assert 'data-key="webhook-missing"' in status and "Unsubscribes do not reach the shop" in status

    emulator.faults.clear()
    client.post(ROTATE)
    rotated = MailchimpConfiguration.objects.get(pk=live_webhook.pk)
    assert rotated.webhook_state == "registered"
    assert [hook["url"] for hook in registered_webhooks(*mailchimp_account)] == [
        live_server.url + webhook_path(rotated)
    ]


@pytest.mark.django_db  # no commit needed
def test_view_only_staff_and_other_shops_cannot_rotate(configuration, client, viewer, settings):
    secret = configuration.webhook_secret
    client.force_login(viewer)
    assert client.post(ROTATE).status_code == 400, "Shuup answers a missing permission with its problem page"
    settings.SHUUP_ENABLE_MULTIPLE_SHOPS = True
    other_shop = Shop.objects.create(identifier="other", name="Other", status=ShopStatus.ENABLED)
    client.force_login(staff_member(other_shop, "other-manager", [VIEW_PERMISSION, MANAGE_PERMISSION]))
    client.get(reverse("shuup_admin:home"), {"shop": other_shop.pk})
    assert client.post(ROTATE).status_code == 302
    assert MailchimpConfiguration.objects.get(pk=configuration.pk).webhook_secret == secret
    assert not MailchimpConfiguration.objects.filter(shop=other_shop).exists()


@pytest.mark.django_db  # no commit needed
def test_a_suspicious_request_log_never_carries_the_secret(configuration, client, settings):
    """django.security.DisallowedHost (a Host not in ALLOWED_HOSTS) logs the request on a logger named
    after the exception; the handlers of ``django`` (the admins' error e-mails by default) see it."""
    from shoop_mailchimp import log_filters

    settings.ADMINS = [("Admin", "admin@fastmail.com")]
    settings.ALLOWED_HOSTS = ["testserver"]
    records = []
    capture = logging.Handler()
    capture.emit = records.append
    django_logger = logging.getLogger("django")
    mailer = AdminEmailHandler()
    for handler in (capture, mailer):
        django_logger.addHandler(handler)
    log_filters.install()  # as at start-up, when LOGGING has attached the handlers
    try:
        client.post(webhook_path(configuration), HTTP_HOST="not-an-allowed-host.invalid")
    except Exception:
        pass  # Shuup's error page needs a shop the refused request never got; the log came before it
    finally:
        for handler in (capture, mailer):
            django_logger.removeHandler(handler)
    [record] = [record for record in records if record.name.startswith("django.security")]
    secret = configuration.webhook_secret
    assert secret not in record.getMessage() and secret not in record.request.path
    assert "<secret>" in record.request.path
    for error_mail in mail.outbox:
        assert secret not in error_mail.subject + error_mail.body
