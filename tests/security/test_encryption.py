"""The API key at rest: Fernet with keys from ENCRYPTION_KEYS, rotation, and a clear stop when no key reads it."""
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.db import connection
from django.urls import reverse

from shoop_mailchimp import encryption
from shoop_mailchimp.checks import check_stored_api_keys
from shoop_mailchimp.initialization import InitializationError, initialize
from shoop_mailchimp.mailchimp.transport import open_session
from shoop_mailchimp.models import MailchimpConfiguration, MailchimpLogEntry, SyncState, SyncStatus
from shoop_mailchimp.models.configuration import APIKeyUndecryptable
from shoop_mailchimp.sync.drainer import drain
from tests.admin.conftest import field_error, post_shop_form, saved
from tests.helpers import make_all_due, new_person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]

UNDECRYPTABLE = "The stored API key cannot be decrypted with the configured ENCRYPTION_KEYS: re-enter it or " \
                "restore the old key."
OLD_SECRET = "old-secret-" + "o" * 40
NEW_SECRET = "new-secret-" + "n" * 40


def stored_token(configuration):
    with connection.cursor() as cursor:
        cursor.execute("SELECT encrypted_api_key FROM shoop_mailchimp_mailchimpconfiguration WHERE id = %s",
                       [configuration.pk])
        return cursor.fetchone()[0]


def use_keys(settings, *secrets):
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, ENCRYPTION_KEYS=list(secrets) or None)


def test_the_same_key_never_encrypts_alike_and_reads_back(shop, settings):
    use_keys(settings, NEW_SECRET)
    api_key = "0123456789abcdef0123456789abcdef-us21"
    first, second = encryption.encrypt(api_key), encryption.encrypt(api_key)
    assert first != second, "a fresh IV for every value (mirage used a fixed one)"
    assert encryption.decrypt(first) == encryption.decrypt(second) == api_key
    configuration = MailchimpConfiguration.objects.create(shop=shop, api_key=api_key)
    token = stored_token(configuration)
    assert api_key not in token and api_key.split("-")[0] not in token
    assert MailchimpConfiguration.objects.get(pk=configuration.pk).api_key == api_key


def test_the_whole_secret_counts_and_a_wrong_one_never_reads_garbage(shop, settings):
    use_keys(settings, NEW_SECRET)
    configuration = MailchimpConfiguration.objects.create(shop=shop, api_key="0123456789abcdef0123456789abcdef-us21")
    # mirage used the first 24 characters only: a secret sharing them read everything.
    use_keys(settings, NEW_SECRET[:24] + "x" * 40)
    with pytest.raises(APIKeyUndecryptable) as raised:
        open_session(MailchimpConfiguration.objects.get(pk=configuration.pk))
    assert str(raised.value) == UNDECRYPTABLE
    for tampered in (stored_token(configuration)[:-4] + "AAAA", "not a token", "é"):
        with pytest.raises(encryption.UndecryptableValue):
            encryption.decrypt(tampered)


def test_without_the_setting_the_key_derives_from_secret_key_and_the_old_one_can_be_listed(shop, settings):
    use_keys(settings)
    settings.SECRET_KEY = OLD_SECRET
    configuration = MailchimpConfiguration.objects.create(shop=shop, api_key="0123456789abcdef0123456789abcdef-us21")
    settings.SECRET_KEY = NEW_SECRET
    assert MailchimpConfiguration.objects.get(pk=configuration.pk).api_key_undecryptable
    use_keys(settings, NEW_SECRET, OLD_SECRET)
    assert MailchimpConfiguration.objects.get(pk=configuration.pk).api_key.endswith("-us21")


def test_rotation_re_encrypts_with_the_newest_key_so_the_old_one_can_go(configuration, settings, capsys):
    api_key = configuration.api_key
    use_keys(settings, NEW_SECRET, settings.SECRET_KEY)
    assert [problem.id for problem in check_stored_api_keys()] == ["shoop_mailchimp.W002"]
    before = stored_token(configuration)

    call_command("mailchimp_rotate_keys")

    assert "1 stored API key(s) re-encrypted" in capsys.readouterr().out
    assert stored_token(configuration) != before
    assert check_stored_api_keys() == []
    use_keys(settings, NEW_SECRET)
    assert MailchimpConfiguration.objects.get(pk=configuration.pk).api_key == api_key
    person = new_person()
    assert SyncState.objects.contacts().get(object_id=person.pk).status == SyncStatus.SYNCED


def test_keys_no_configured_key_reads_are_reported_by_the_check_and_the_rotation(configuration, settings):
    use_keys(settings, NEW_SECRET)
    [problem] = check_stored_api_keys()
    assert problem.id == "shoop_mailchimp.W004" and str(configuration.shop_id) in problem.msg
    output = io.StringIO()
    call_command("check", tags=["database"], stdout=output, stderr=output)  # a warning: a deploy goes on
    assert "shoop_mailchimp.W004" in output.getvalue()
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("mailchimp_rotate_keys")
    use_keys(settings, "")
    with pytest.raises(SystemCheckError, match="shoop_mailchimp.E006"):
        call_command("check")


def test_the_sync_stops_with_the_reason_and_sends_nothing(configuration, mailchimp_account, settings):
    emulator = mailchimp_account[0]
    use_keys(settings, NEW_SECRET)
    emulator.clear_requests()
    person = new_person()
    make_all_due()
    drain()

    assert emulator.requests == [], "no request, so neither the ciphertext nor garbage went out as a key"
    assert SyncState.objects.contacts().get(object_id=person.pk).status == SyncStatus.PENDING
    paused = MailchimpConfiguration.objects.get(pk=configuration.pk).paused_reason
    assert paused == UNDECRYPTABLE
    assert MailchimpLogEntry.objects.filter(action="sync.paused", message__contains=UNDECRYPTABLE).exists()
    with pytest.raises(InitializationError, match="cannot be decrypted"):
        initialize(MailchimpConfiguration.objects.get(pk=configuration.pk))


def test_the_admin_says_what_to_do_and_re_entering_the_key_repairs(configuration, mailchimp_account, admin_client,
                                                                   settings):
    emulator, api_key, list_id = mailchimp_account
    use_keys(settings, NEW_SECRET)
    status = admin_client.get(reverse("shuup_admin:shoop_mailchimp.status")).content.decode()
    assert 'data-key="key-undecryptable"' in status and "This is not a Mailchimp API key" not in status
    assert "enter it again on the shop page" in status
    edit = admin_client.get(reverse("shuup_admin:shop.edit", kwargs={"pk": configuration.shop_id}))
    html = edit.content.decode()
    assert UNDECRYPTABLE in html and "ending in" not in html

    response = post_shop_form(admin_client, configuration.shop, api_key="")
    assert field_error(response, "api_key") == UNDECRYPTABLE, "nothing is saved over a key nobody can read"
    response = post_shop_form(admin_client, configuration.shop, api_key=api_key)
    assert saved(response), field_error(response, "api_key")
    repaired = MailchimpConfiguration.objects.get(pk=configuration.pk)
    assert repaired.api_key == api_key and not repaired.paused_reason
    person = new_person()
    assert SyncState.objects.contacts().get(object_id=person.pk).status == SyncStatus.SYNCED
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
