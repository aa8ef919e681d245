import pytest
from django.core.management import call_command
from django.db import transaction
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncState, SyncStatus
from shoop_mailchimp.sync.delivery import wait_for_background_deliveries

pytestmark = pytest.mark.django_db(transaction=True)


def test_worker_mode_only_records_and_the_command_delivers(configuration, mailchimp_account, settings, capsys):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator.clear_requests()
    person = PersonContact.objects.create(first_name="Wes", email="wes@example.com", marketing_permission=True)
    assert emulator.requests == []
    assert SyncState.objects.get(object_id=person.pk, kind="contact").status == SyncStatus.PENDING
    call_command("mailchimp_sync", shop=configuration.shop_id)
    assert "contact synced: 1" in capsys.readouterr().out
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    call_command("mailchimp_sync")
    assert "Nothing to deliver" in capsys.readouterr().out


def test_on_commit_in_a_background_thread(configuration, mailchimp_account, settings):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, ON_COMMIT_IN_THREAD=True)
    emulator.faults.latency(0.3)
    # One transaction, so that the thread starts after the request's writes (SQLite has one writer).
    with transaction.atomic():
        person = PersonContact.objects.create(first_name="Tia", email="tia@example.com", marketing_permission=True)
    # The save returned before Mailchimp answered ...
    assert emulator.get_member(api_key, list_id, person.email) is None
    wait_for_background_deliveries()
    # ... and the delivery happened in the background.
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    assert SyncState.objects.get(object_id=person.pk, kind="contact").status == SyncStatus.SYNCED


def test_worker_loop_survives_a_database_error(configuration, mailchimp_account, settings, monkeypatch, capsys):
    from django.db import OperationalError

    from shoop_mailchimp.management.commands import mailchimp_sync

    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    person = PersonContact.objects.create(first_name="Dee", email="dee@example.com", marketing_permission=True)
    real_drain, calls = mailchimp_sync.drain, []

    def flaky_drain(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real_drain(**kwargs)

    def sleep(seconds):
        if len(calls) >= 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(mailchimp_sync, "drain", flaky_drain)
    monkeypatch.setattr(mailchimp_sync.time, "sleep", sleep)
    call_command("mailchimp_sync", loop=True, interval=0)
    assert "Database error" in capsys.readouterr().err
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
