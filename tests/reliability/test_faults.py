"""The fault matrix: whatever Mailchimp or the network does, the shop keeps working and no change is lost.

Each test ends with the emulator holding exactly the shop's contacts (members with the right status,
merge fields and interests, and customers) and, through the ``scenario`` fixture, nobody subscribed
without consent.
"""
import threading
from collections import Counter

import pytest
from django.db import OperationalError, connection, transaction
from django.urls import reverse
from shuup.core.models import PersonContact
from shuup.testing.factories import create_random_contact_group

from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.models import MailchimpConfiguration, SyncState, SyncStatus
from shoop_mailchimp.sync import delivery, state
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.kinds import contact as contact_kind
from tests.admin.conftest import post_shop_form
from tests.helpers import make_all_due, member_writes, new_person, wait_for
from tests.reliability.helpers import assert_nothing_lost, drain_until_settled

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def people_in_a_group(count, **fields):
    group = create_random_contact_group()
    people = [new_person(permission=bool(number % 2), **fields) for number in range(count)]
    group.members.add(*people[::2])
    return people


def test_mailchimp_down_for_the_whole_run(scenario, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    emulator.faults.down()
    try:
        people = people_in_a_group(6)
        people[1].first_name = "Edited while down"
        people[1].save()
        states = SyncState.objects.contacts()
        assert states.count() == 6 and not states.filter(status=SyncStatus.SYNCED).exists()
    finally:
        emulator.faults.up()
    drain_until_settled()
    assert_nothing_lost(emulator, api_key, list_id, scenario)


@pytest.mark.django_db  # no commit needed
def test_thirty_percent_random_server_errors(scenario, mailchimp_account, settings, worker_mode):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, MAX_ATTEMPTS=100)
    emulator.faults.failure_rate(0.3, status=500, seed=20261128)
    people = people_in_a_group(12)
    drains = drain_until_settled()
    assert drains > 1, "some deliveries failed and were retried"
    assert any(request["status"] == 500 for request in emulator.requests)
    emulator.faults.clear()
    assert_nothing_lost(emulator, api_key, list_id, scenario, people)


@pytest.mark.django_db  # no commit needed
def test_group_interest_created_after_its_members_were_sent(scenario, mailchimp_account, worker_mode):
    """The interest of a new group fails to be created while its members are sent: they get it later."""
    emulator, api_key, list_id = mailchimp_account
    people = people_in_a_group(4)
    emulator.faults.fail("/lists/*/interest-categories/*/interests", method="POST", status=503)
    drain()
    assert SyncState.objects.contacts().filter(status=SyncStatus.SYNCED).count() == 4
    emulator.faults.clear()
    drain_until_settled()
    assert_nothing_lost(emulator, api_key, list_id, scenario, people)


@pytest.mark.django_db  # no commit needed
def test_a_429_storm_causes_no_request_storm(scenario, mailchimp_account, worker_mode):
    emulator, api_key, list_id = mailchimp_account
    people = [new_person() for _ in range(10)]
    emulator.faults.fail(None, status=429)
    for _ in range(5):
        emulator.clear_requests()
        make_all_due()
        report = drain()
        assert set(report) == {"postponed"} and report["postponed"] >= 10
        assert len(emulator.requests) == 1, "the first 429 stops the round"
    assert set(SyncState.objects.values_list("attempts", flat=True)) == {0}, "throttling is nobody's fault"
    emulator.faults.clear()
    drain_until_settled()
    assert_nothing_lost(emulator, api_key, list_id, scenario, people)


@pytest.mark.django_db  # no commit needed
def test_hangs_past_the_client_timeout(scenario, mailchimp_account, settings, worker_mode):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, TIMEOUT=(1, 0.3))
    people = [new_person() for _ in range(4)]
    emulator.faults.hang(1.0, "/lists/*/members/*", times=3)
    report = drain()
    assert report["contact retried"] == 3
    # The read timeout (0.3 s) ends each hang (1 s): the client gave up and moved on.
    timed_out = SyncState.objects.filter(status=SyncStatus.PENDING).values_list("last_error", flat=True)
    assert timed_out and all("did not answer in time" in error for error in timed_out)
    drain_until_settled()
    assert_nothing_lost(emulator, api_key, list_id, scenario, people)


@pytest.mark.django_db  # no commit needed
def test_connection_resets(scenario, mailchimp_account, worker_mode):
    emulator, api_key, list_id = mailchimp_account
    people = people_in_a_group(5)
    emulator.faults.reset_connection("/ecommerce/stores/*/customers/*", times=3)
    emulator.faults.reset_connection("/lists/*/members/*", times=2)
    drain_until_settled()
    assert sum(1 for request in emulator.requests if request["status"] == 0) == 5
    assert_nothing_lost(emulator, api_key, list_id, scenario, people)


@pytest.mark.django_db  # no commit needed
def test_worker_killed_mid_delivery(scenario, mailchimp_account, worker_mode, monkeypatch):
    """A worker dies after some members were sent: its lease runs out and another drain finishes."""
    emulator, api_key, list_id = mailchimp_account
    people = [new_person() for _ in range(5)]
    real_customer_operation, calls = contact_kind.ContactPlan.customer_operation, []

    def dies_on_the_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt("the worker process is killed")
        return real_customer_operation(*args, **kwargs)

    monkeypatch.setattr(contact_kind.ContactPlan, "customer_operation", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        drain()
    monkeypatch.setattr(contact_kind.ContactPlan, "customer_operation", real_customer_operation)
    leased = set(SyncState.objects.filter(status=SyncStatus.SENDING).values_list("id", flat=True))
    assert len(leased) == 3
    sent_before = len(member_writes(emulator))
    drain()
    assert set(SyncState.objects.filter(status=SyncStatus.SENDING).values_list("id", flat=True)) == leased
    assert len(member_writes(emulator)) == sent_before, "a live lease keeps other workers off"
    # A worker that claimed rows and vanished before sending anything.
    more = [new_person() for _ in range(2)]
    assert len(state.claim()) == 2
    drain_until_settled()
    assert_nothing_lost(emulator, api_key, list_id, scenario, people + more)


@pytest.mark.django_db  # no commit needed
def test_worker_killed_mid_batch(scenario, mailchimp_account, settings, worker_mode, monkeypatch):
    """A bulk sync killed between two batch submissions resumes; every contact arrives once."""
    from shoop_mailchimp.mailchimp import batches
    from shoop_mailchimp.sync import bulk

    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, BATCH_SIZE=3, BATCH_POLL_INTERVAL=0.05)
    people = people_in_a_group(8)
    SyncState.objects.contacts().filter(object_id__in=[person.pk for person in people]).delete()
    real_submit, submitted = batches.submit, []

    def killed_on_the_second(*args, **kwargs):
        submitted.append(1)
        if len(submitted) == 2:
            raise KeyboardInterrupt("the worker process is killed")
        return real_submit(*args, **kwargs)

    monkeypatch.setattr(batches, "submit", killed_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        bulk.start(scenario.shop_id)
    monkeypatch.setattr(batches, "submit", real_submit)
    emulator.faults.reset_connection("/batches*", times=1)
    assert bulk.resume_batches(scenario.shop_id, poll_interval=0.05, timeout=30) == 0
    drain_until_settled()
    assert_nothing_lost(emulator, api_key, list_id, scenario, people)


@pytest.mark.django_db  # no commit needed
def test_database_error_while_closing_a_delivered_row(scenario, mailchimp_account, worker_mode, monkeypatch):
    emulator, api_key, list_id = mailchimp_account
    people = [new_person() for _ in range(3)]
    real_close, failures = state.close, []

    def fails_once(row, outcome):
        if not failures and outcome.result.value == "synced":
            failures.append(row.object_id)
            raise OperationalError("database is locked")
        return real_close(row, outcome)

    monkeypatch.setattr(state, "close", fails_once)
    with pytest.raises(OperationalError):
        drain()
    row = SyncState.objects.get(object_id=failures[0])
    assert row.status == SyncStatus.SENDING, "the row waits for its lease to expire, it is not lost"
    drain_until_settled()
    assert_nothing_lost(emulator, api_key, list_id, scenario, people)


def test_database_error_after_commit_does_not_break_the_save(scenario, mailchimp_account, monkeypatch):
    """The shop's save succeeds although the delivery round after it hit a database error."""
    emulator, api_key, list_id = mailchimp_account
    real_wake, real_close = delivery.background_drainer.wake, state.close

    def round_that_fails():
        try:
            real_wake()
        except OperationalError:
            pass  # what the background thread does: log, and leave the rows to their lease

    monkeypatch.setattr(delivery.background_drainer, "wake", round_that_fails)
    monkeypatch.setattr(state, "close", lambda row, outcome: (_ for _ in ()).throw(
        OperationalError("disk I/O error")))
    person = new_person()
    assert PersonContact.objects.filter(pk=person.pk).exists()
    monkeypatch.setattr(state, "close", real_close)
    drain_until_settled()
    assert_nothing_lost(emulator, api_key, list_id, scenario, [person])


@pytest.mark.django_db(transaction=True)  # a thread of its own reads the test's data
def test_edit_while_the_send_is_in_flight_newest_state_wins(scenario, mailchimp_account, worker_mode):
    emulator, api_key, list_id = mailchimp_account
    person = new_person(first_name="Old")
    emulator.faults.hang(60, "/lists/*/members/*", times=1)  # until the test releases it
    errors = []

    def worker():
        try:
            drain()
        except Exception as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    wait_for(emulator, lambda: emulator.stats["in_flight"] == 1, "the old state on the wire")
    person.first_name = "Newest"
    person.save()
    emulator.release_hangs()
    thread.join(15)
    assert not thread.is_alive() and not errors
    drain_until_settled()
    sent = [request["body"]["merge_fields"]["FNAME"] for request in member_writes(emulator, person.email)]
    assert sent == ["Old", "Newest"], "the version recorded mid-flight is sent after the old one"
    assert emulator.get_member(api_key, list_id, person.email)["merge_fields"]["FNAME"] == "Newest"
    assert_nothing_lost(emulator, api_key, list_id, scenario, [person])


@pytest.mark.django_db  # no commit needed
def test_a_thousand_rapid_edits_are_coalesced(scenario, mailchimp_account, worker_mode):
    emulator, api_key, list_id = mailchimp_account
    person = new_person()
    drain()
    emulator.clear_requests()
    for number in range(1000):
        person.last_name = "Edit %d" % number
        person.save()
    drain()
    assert len(member_writes(emulator, person.email)) <= 2
    assert emulator.get_member(api_key, list_id, person.email)["merge_fields"]["LNAME"] == "Edit 999"
    assert_nothing_lost(emulator, api_key, list_id, scenario, [person])


def status_page(client):
    response = client.get(reverse("shuup_admin:shoop_mailchimp.status"))
    assert response.status_code == 200
    return response.content.decode("utf-8")


def test_revoked_key_pauses_with_a_clear_message_and_resumes_after_the_form_is_saved(
    scenario, mailchimp_account, admin_client
):
    emulator, api_key, list_id = mailchimp_account
    before = [new_person() for _ in range(2)]
    emulator.revoke_key(api_key)
    during = [new_person() for _ in range(3)]
    scenario.refresh_from_db()
    assert "API key" in scenario.paused_reason and api_key not in scenario.paused_reason
    assert scenario.paused_reason in status_page(admin_client).replace("&#39;", "'")
    waiting = SyncState.objects.filter(object_id__in=[person.pk for person in during])
    assert set(waiting.values_list("status", flat=True)) == {SyncStatus.PENDING}
    emulator.accounts[api_key].revoked = False  # the owner re-enabled the key in Mailchimp
    assert post_shop_form(admin_client, scenario.shop, enabled=True).status_code == 302
    scenario.refresh_from_db()
    assert scenario.paused_reason == ""
    assert "mailchimp-paused-reason" not in status_page(admin_client)
    drain_until_settled()
    assert_nothing_lost(emulator, api_key, list_id, scenario, before + during)


def test_deleted_store_pauses_and_reinitialization_resends_everything(scenario, mailchimp_account, admin_client):
    emulator, api_key, list_id = mailchimp_account
    before = people_in_a_group(3)
    emulator.delete_store(api_key, scenario.store_id)
    during = [new_person()]
    scenario.refresh_from_db()
    assert "The store %s no longer exists" % scenario.store_id in scenario.paused_reason
    assert "mailchimp-paused-reason" in status_page(admin_client)
    response = admin_client.post(reverse("shuup_admin:shoop_mailchimp.initialize", kwargs={"pk": scenario.shop.pk}))
    assert response.status_code == 302
    scenario.refresh_from_db()
    assert scenario.paused_reason == ""
    drain_until_settled()
    assert_nothing_lost(emulator, api_key, list_id, scenario, before + during)


def test_deleted_audience_pauses_and_a_new_one_gets_every_contact(scenario, mailchimp_account, admin_client):
    """Deleting an audience also removes its store in Mailchimp; the owner picks a new audience."""
    emulator, api_key, list_id = mailchimp_account
    before = people_in_a_group(3)
    emulator.delete_list(api_key, list_id)
    emulator.delete_store(api_key, scenario.store_id)
    during = [new_person()]
    scenario.refresh_from_db()
    assert "The audience %s no longer exists" % list_id in scenario.paused_reason
    assert scenario.paused_reason in status_page(admin_client).replace("&#39;", "'")
    new_list = emulator.add_list(api_key, name="Replacement audience")
    assert post_shop_form(admin_client, scenario.shop, list_id=new_list, enabled=True).status_code == 302
    chosen = MailchimpConfiguration.objects.get(pk=scenario.pk)
    assert not chosen.is_active and not MailchimpConfiguration.objects.active().filter(pk=scenario.pk).exists(), (
        "nothing is sent to the new audience with the old audience's member facts before Initialize moves there")
    drain()
    assert emulator.members(api_key, new_list) == []
    initialize(chosen)
    drain_until_settled()
    assert_nothing_lost(emulator, api_key, new_list, scenario, before + during)


def test_faults_inside_one_transaction_never_fail_the_checkout_like_save(scenario, mailchimp_account):
    """Mailchimp errors of every kind while a request saves several contacts: every save commits."""
    emulator, api_key, list_id = mailchimp_account
    emulator.faults.fail("/lists/*/members/*", status=503, times=1)
    emulator.faults.reset_connection("/ecommerce/stores/*/customers/*", times=1)
    with transaction.atomic():
        people = [new_person() for _ in range(3)]
    statuses = Counter(SyncState.objects.contacts().values_list("status", flat=True))
    assert statuses[SyncStatus.PENDING] == 2, statuses
    drain_until_settled()
    assert_nothing_lost(emulator, api_key, list_id, scenario, people)


@pytest.mark.django_db  # no commit needed
def test_a_withdrawal_after_a_subscription_lost_with_its_worker_still_reaches_mailchimp(
    configuration, mailchimp_account, worker_mode, monkeypatch
):
    """The worker subscribes the member, then dies before the row learns it; the person withdraws
    consent meanwhile. The next worker cannot tell what Mailchimp holds, so it sends the withdrawal."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=False)
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "transactional"
    person.marketing_permission = True
    person.save()
    real_customer_operation = contact_kind.ContactPlan.customer_operation

    def dies_after_the_member(*args, **kwargs):
        raise KeyboardInterrupt("the worker process is killed")

    monkeypatch.setattr(contact_kind.ContactPlan, "customer_operation", dies_after_the_member)
    with pytest.raises(KeyboardInterrupt):
        drain()
    monkeypatch.setattr(contact_kind.ContactPlan, "customer_operation", real_customer_operation)
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed", "the lost attempt"
    person.marketing_permission = False
    person.save()
    make_all_due()  # the dead worker's lease runs out
    drain_until_settled()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "unsubscribed"
