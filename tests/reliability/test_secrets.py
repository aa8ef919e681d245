"""The API key stays secret: not stored in plain text, not rendered, not logged, not in any error."""
import json
import logging

import pytest
from django.db import connection
from django.urls import reverse

from shoop_mailchimp.initialization import InitializationError, initialize
from shoop_mailchimp.models import MailchimpConfiguration, MailchimpLogEntry, SyncState
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, new_person
from tests.reliability import registry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def secret_parts(api_key):
    """The whole key and its secret part (the data centre suffix alone is no secret)."""
    return [api_key, api_key.split("-")[0]]


def assert_no_key(text, api_key, where):
    for part in secret_parts(api_key):
        assert part not in text, "the API key appears in %s" % where


def run_through_every_kind_of_failure(emulator, api_key, configuration, settings):
    """A full sync with successes, rejections, server errors, resets, timeouts and a revoked key."""
    registry.tally("faults")
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, TIMEOUT=(1, 0.3))
    people = [new_person() for _ in range(3)]
    emulator.faults.fail_email("fake@fastmail.com")
    people.append(new_person(email="fake@fastmail.com"))
    people.append(new_person(email="not an e-mail"))
    emulator.faults.fail("/lists/*/members/*", status=500, times=1)
    emulator.faults.reset_connection("/ecommerce/stores/*/customers/*", times=1)
    emulator.faults.hang(0.6, "/lists/*/members/*", times=1)
    people.extend(new_person() for _ in range(3))
    emulator.faults.fail("/lists/*/members/*", status=404, times=1)
    people.append(new_person())
    emulator.revoke_key(api_key)
    people.append(new_person())
    make_all_due()
    drain()
    with pytest.raises(InitializationError) as raised:
        initialize(MailchimpConfiguration.objects.get(pk=configuration.pk))
    assert_no_key(str(raised.value), api_key, "the initialization error")
    emulator.accounts[api_key].revoked = False
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(paused_reason="")
    make_all_due()
    drain()
    return people


def test_the_key_is_encrypted_in_the_database(configuration, mailchimp_account):
    api_key = mailchimp_account[1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT encrypted_api_key FROM %s WHERE id = %%s" % MailchimpConfiguration._meta.db_table,
                       [configuration.pk])
        [(raw,)] = cursor.fetchall()
    assert raw and raw != api_key
    assert_no_key(raw, api_key, "the database column")
    assert MailchimpConfiguration.objects.get(pk=configuration.pk).api_key == api_key


def test_the_key_is_in_no_admin_page_log_entry_error_or_log_line(
    consent_guard, mailchimp_account, admin_client, client_errors, settings, caplog, monkeypatch
):
    emulator, api_key, list_id = mailchimp_account
    # Django's LOGGING may have disabled loggers created before it: listen to all of them.
    for name in ["", "mailchimp3", "mailchimp3.client", "urllib3", "requests"] + list(logging.root.manager.loggerDict):
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "disabled", False)
        monkeypatch.setattr(logger, "propagate", True)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="mailchimp3.client")
    people = run_through_every_kind_of_failure(emulator, api_key, consent_guard, settings)
    registry.tally("requests_failed", len(client_errors))

    # Every error the client raised, and everything that was logged with Python logging.
    assert len(client_errors) >= 6
    for error in client_errors:
        for text in (str(error), repr(error), json.dumps(error.as_log_data(), default=str)):
            assert_no_key(text, api_key, "an exception")
    assert any(record.name.startswith("urllib3") for record in caplog.records), "DEBUG logging was captured"
    assert_no_key(caplog.text, api_key, "Python logging")
    for person in people:
        assert person.email not in caplog.text, "personal data in Python logging"

    # The journal.
    entries = MailchimpLogEntry.objects.all()
    assert entries.filter(kind="error").count() >= 4
    for entry in entries:
        assert_no_key(entry.message + json.dumps(entry.extra, default=str), api_key, "log entry %s" % entry.pk)

    # Every admin page that shows the configuration, the log, failures or a contact.
    entry = entries.filter(kind="error").exclude(extra=None).first()
    pages = [
        reverse("shuup_admin:shoop_mailchimp.status"),
        reverse("shuup_admin:shoop_mailchimp.log"),
        reverse("shuup_admin:shoop_mailchimp.log") + "?jq=" + json.dumps({"perPage": 100, "page": 1}),
        reverse("shuup_admin:shoop_mailchimp.log.detail", kwargs={"pk": entry.pk}),
        reverse("shuup_admin:shoop_mailchimp.failed"),
        reverse("shuup_admin:shop.edit", kwargs={"pk": consent_guard.shop_id}),
    ] + [reverse("shuup_admin:contact.detail", kwargs={"pk": person.pk}) for person in people[:5]]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        assert_no_key(response.content.decode("utf-8"), api_key, page)
    shop_form = admin_client.get(pages[5]).content.decode("utf-8")
    assert "mailchimp-api_key" in shop_form and MailchimpConfiguration.objects.get().api_key_hint in shop_form
    assert SyncState.objects.filter(status="failed").exists()


def test_a_refused_key_typed_into_the_shop_form_is_not_echoed(consent_guard, mailchimp_account, admin_client):
    from tests.admin.conftest import post_shop_form

    emulator = mailchimp_account[0]
    typed = emulator.add_account()
    emulator.revoke_key(typed)
    response = post_shop_form(admin_client, consent_guard.shop, api_key=typed, enabled=True)
    assert response.status_code == 302, "saved; the drainer checks the key"
    html = admin_client.get(response["Location"]).content.decode("utf-8")
    assert "Mailchimp refused the API key" in html
    assert_no_key(html, typed, "the shop page after the check")
    status = admin_client.get(reverse("shuup_admin:shoop_mailchimp.status")).content.decode("utf-8")
    assert_no_key(status, typed, "the status page")
