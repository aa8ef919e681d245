"""Isolation: anonymous users reach nothing, state changes need POST and CSRF, shops do not see each
other's sync, and the webhook secret is compared in constant time.
"""
import json

import pytest
from django.test import Client
from django.urls import reverse
from shuup.core.models import Shop, ShopStatus

from shoop_mailchimp import webhooks
from shoop_mailchimp.admin_module import MailchimpModule
from shoop_mailchimp.admin_module.permissions import MANAGE_PERMISSION, VIEW_PERMISSION
from shoop_mailchimp.models import JobKind, JobStatus, MailchimpJob, MailchimpLogEntry, SyncState, SyncStatus
from shoop_mailchimp.webhook_registration import webhook_url
from tests.helpers import new_person, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]

STATE_CHANGING = {"resend", "sync_existing", "send_pending", "initialize", "sync_contact", "rotate_webhook_secret",
                  "reconcile", "disconnect", "confirm_site"}


def admin_urls(shop, contact):
    """Every URL of the Mailchimp admin module, with the shop, a contact or a log entry where one is needed."""
    entry = MailchimpLogEntry.objects.filter(shop=shop).first()
    pks = {"initialize": shop.pk, "sync_contact": contact.pk, "log.detail": entry.pk if entry else 1}
    urls = {}
    for pattern in MailchimpModule().get_urls():
        name = pattern.name.split(".", 1)[1]
        kwargs = {"pk": pks[name]} if "(?P<pk>" in pattern.pattern.regex.pattern else {}
        urls[name] = reverse("shuup_admin:" + pattern.name, kwargs=kwargs)
    return urls


def test_every_admin_url_is_covered_here(configuration):
    expected = {"status", "status_data", "log", "log.detail", "failed", "unknown_members"} | STATE_CHANGING
    assert set(admin_urls(configuration.shop, new_person())) == expected


def test_anonymous_users_reach_no_admin_url(configuration, client):
    person = new_person()
    for name, url in admin_urls(configuration.shop, person).items():
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302 and "login" in response["Location"], (name, method)
    assert SyncState.objects.contacts().filter(status=SyncStatus.SYNCED).count() == 1
    assert not MailchimpLogEntry.objects.filter(user__isnull=False).exists()


def test_state_changing_views_refuse_get_and_missing_csrf(configuration, admin_user, mailchimp_account):
    person = new_person()
    SyncState.objects.update(status=SyncStatus.FAILED)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    emulator = mailchimp_account[0]

    def writes():
        """Requests that change something in Mailchimp (the status page reads the webhooks)."""
        return [request for request in emulator.requests if request["method"] != "GET"]

    writes_before = len(writes())
    for name, url in admin_urls(configuration.shop, person).items():
        if name not in STATE_CHANGING:
            assert browser.get(url).status_code == 200, name
            continue
        assert browser.get(url).status_code == 405, name
        assert browser.post(url).status_code == 403, name
    assert SyncState.objects.contacts().get(object_id=person.pk).status == SyncStatus.FAILED, "nothing was resent"
    assert len(writes()) == writes_before, "nothing was sent or initialized"


def test_another_shops_staff_cannot_see_or_act_on_this_shops_sync(
    configuration, mailchimp_account, client, settings, worker_mode
):
    """Gaps left by tests/admin: the failed list, resending by id, sending and queueing."""
    settings.SHUUP_ENABLE_MULTIPLE_SHOPS = True
    emulator, api_key, list_id = mailchimp_account
    failed_person, pending_person = new_person(), new_person()
    SyncState.objects.contacts().filter(object_id=failed_person.pk).update(status=SyncStatus.FAILED,
                                                                last_error="secret failure of shop A")
    other_shop = Shop.objects.create(identifier="b", name="Shop B", status=ShopStatus.ENABLED)
    client.force_login(staff_member(other_shop, "staff-b", [VIEW_PERMISSION, MANAGE_PERMISSION]))
    client.get(reverse("shuup_admin:home"), {"shop": other_shop.pk})
    failed_state = SyncState.objects.contacts().get(object_id=failed_person.pk)

    failed = client.get(reverse("shuup_admin:shoop_mailchimp.failed")).content.decode("utf-8")
    assert "secret failure of shop A" not in failed and "failed-%s" % failed_state.pk not in failed
    client.post(reverse("shuup_admin:shoop_mailchimp.resend"), {"state": failed_state.pk})
    assert SyncState.objects.get(pk=failed_state.pk).status == SyncStatus.FAILED
    client.post(reverse("shuup_admin:shoop_mailchimp.send_pending"))
    client.post(reverse("shuup_admin:shoop_mailchimp.sync_existing"))
    client.post(reverse("shuup_admin:shoop_mailchimp.sync_contact", kwargs={"pk": pending_person.pk}))
    assert SyncState.objects.contacts().get(object_id=pending_person.pk).status == SyncStatus.PENDING
    assert emulator.get_member(api_key, list_id, pending_person.email) is None
    assert not SyncState.objects.filter(shop=other_shop).exists()
    log = client.get(reverse("shuup_admin:shoop_mailchimp.log"), {"jq": json.dumps({"perPage": 50, "page": 1})})
    assert log.json()["pagination"]["nItems"] == 0
    figures = client.get(reverse("shuup_admin:shoop_mailchimp.status_data")).json()
    assert figures["counts"]["contact"]["failed"] == 0 and figures["health"]["key"] == "not-connected"
    edit = client.get(reverse("shuup_admin:shop.edit", kwargs={"pk": configuration.shop_id}))
    assert edit.status_code != 200 or b"mailchimp-" not in edit.content, "shop A's configuration form"
    assert client.post(reverse("shuup_admin:shoop_mailchimp.initialize", kwargs={"pk": configuration.shop_id})
                       ).status_code == 404
    MailchimpJob.objects.create(shop_id=configuration.shop_id, kind=JobKind.RECONCILE, status=JobStatus.DONE,
                                result={"unknown_emails": ["secret.member.of.a@fastmail.com"]})
    export = client.get(reverse("shuup_admin:shoop_mailchimp.unknown_members"))
    assert export.status_code == 200 and b"secret.member.of.a" not in export.content
    client.post(reverse("shuup_admin:shoop_mailchimp.reconcile"))
    assert MailchimpJob.objects.filter(kind=JobKind.RECONCILE).count() == 1
    client.post(reverse("shuup_admin:shoop_mailchimp.disconnect"), {"mailchimp_delete_store_id": "x"})
    client.post(reverse("shuup_admin:shoop_mailchimp.confirm_site"))
    configuration.refresh_from_db()
    assert configuration.disconnected_on is None and not MailchimpJob.objects.filter(kind=JobKind.DISCONNECT).exists()


def test_the_webhook_secret_is_compared_in_constant_time(configuration, client, monkeypatch):
    calls = []
    real = webhooks.hmac.compare_digest

    def spy(given, expected):
        calls.append((given, expected))
        return real(given, expected)

    monkeypatch.setattr(webhooks.hmac, "compare_digest", spy)
    good = webhook_url(configuration, "")
    bad = good.replace(configuration.webhook_secret, "x" * len(configuration.webhook_secret))
    assert client.get(good).status_code == 200
    assert client.get(bad).status_code == 403
    secret = configuration.webhook_secret.encode("utf-8")
    assert len([call for call in calls if secret in call]) == 2, "Fernet compares MACs with it too"
    monkeypatch.setattr(webhooks.hmac, "compare_digest", lambda given, expected: False)
    assert client.get(good).status_code == 403, "the answer depends on compare_digest alone"
