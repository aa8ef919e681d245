"""DRAIN_CONCURRENCY > 1: contacts are sent by several threads, rows are still closed one by one."""
import itertools
from datetime import timedelta

import pytest
from django.utils import timezone
from shuup.core.models import PersonContact

from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.models import MailchimpConfiguration, SyncState, SyncStatus
from shoop_mailchimp.sync.worker import drain

pytestmark = pytest.mark.django_db(transaction=True)
_counter = itertools.count(1)


@pytest.fixture
def concurrent_worker(configuration, settings):
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", DRAIN_CONCURRENCY=8)
    return configuration


def new_people(count, permission=True):
    return [
        PersonContact.objects.create(
            first_name="Cora%d" % number, last_name="Example", email="cora.%d@example.com" % number,
            marketing_permission=permission,
        )
        for number in (next(_counter) for _ in range(count))
    ]


def states(people):
    return {state.object_id: state for state in SyncState.objects.filter(
        kind="contact", object_id__in=[person.pk for person in people]
    )}


def make_all_due():
    SyncState.objects.filter(status=SyncStatus.PENDING).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_sixty_contacts_drain_concurrently(concurrent_worker, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    people = new_people(60)
    assert {state.status for state in states(people).values()} == {SyncStatus.PENDING}
    emulator.faults.latency(0.05)
    emulator.reset_stats()
    report = drain()
    assert report["contact synced"] == 60
    assert {state.status for state in states(people).values()} == {SyncStatus.SYNCED}
    for person in people:
        assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
        customer = emulator.get_customer(api_key, concurrent_worker.store_id, str(person.pk))
        assert customer["email_address"] == person.email
    assert 1 < emulator.stats["max_in_flight"] <= 10


def test_a_permanent_failure_fails_only_its_row(concurrent_worker, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    people = new_people(60)
    rejected = people[17]
    emulator.faults.fail_email(rejected.email)
    report = drain()
    assert report["contact synced"] == 59
    by_id = states(people)
    assert by_id[rejected.pk].status == SyncStatus.FAILED
    assert "looks fake or invalid" in by_id[rejected.pk].last_error
    assert [person for person in people if by_id[person.pk].status != SyncStatus.SYNCED] == [rejected]
    assert emulator.get_member(api_key, list_id, rejected.email) is None
    assert emulator.get_member(api_key, list_id, people[18].email)["status"] == "subscribed"


def test_a_429_midway_stops_sending_and_loses_nothing(concurrent_worker, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    people = new_people(60)
    throttled = people[30]
    emulator.faults.latency(0.02)
    emulator.faults.fail("/lists/*/members/%s" % subscriber_hash(throttled.email), status=429, times=1)
    report = drain()
    assert report["postponed"] >= 60
    by_id = states(people)
    synced = [person for person in people if by_id[person.pk].status == SyncStatus.SYNCED]
    pending = [person for person in people if by_id[person.pk].status == SyncStatus.PENDING]
    assert len(synced) + len(pending) == 60, "every row is either closed or given back"
    assert throttled in pending
    assert 30 <= len(synced) < 59, "sends in flight finish; none starts after the 429"
    assert {by_id[person.pk].attempts for person in pending} == {0}, "throttling is nobody's fault"
    assert all(by_id[person.pk].next_attempt_at > timezone.now() for person in pending)
    members = {member["email_address"] for member in emulator.members(api_key, list_id)}
    assert {person.email for person in synced} <= members
    assert not MailchimpConfiguration.objects.get(pk=concurrent_worker.pk).paused_reason

    make_all_due()
    drain()
    assert {state.status for state in states(people).values()} == {SyncStatus.SYNCED}
    members = {member["email_address"] for member in emulator.members(api_key, list_id)}
    assert {person.email for person in people} <= members


def test_an_account_problem_stops_and_pauses_the_shop(concurrent_worker, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    people = new_people(30)
    emulator.faults.fail("/lists/*/members/%s" % subscriber_hash(people[10].email), status=401, times=1)
    drain()
    assert MailchimpConfiguration.objects.get(pk=concurrent_worker.pk).paused_reason
    by_id = states(people)
    assert {state.status for state in by_id.values()} <= {SyncStatus.SYNCED, SyncStatus.PENDING}
    assert by_id[people[10].pk].status == SyncStatus.PENDING
    assert by_id[people[-1].pk].status == SyncStatus.PENDING, "nothing is sent after the account problem"


def test_consent_rules_are_unchanged(concurrent_worker, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    consenting = new_people(10)
    silent = new_people(10, permission=False)
    drain()
    gone = consenting[3]
    emulator.set_member_status(api_key, list_id, gone.email, "unsubscribed")
    for person in consenting + silent:
        person.first_name += "x"
        person.save()
    report = drain()
    assert report["contact synced"] == 20
    assert emulator.get_member(api_key, list_id, gone.email)["status"] == "unsubscribed"
    assert emulator.get_customer(api_key, concurrent_worker.store_id, str(gone.pk))["opt_in_status"] is False
    for person in consenting:
        if person is not gone:
            assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    for person in silent:
        assert emulator.get_member(api_key, list_id, person.email)["status"] == "transactional"
        assert emulator.get_customer(api_key, concurrent_worker.store_id, str(person.pk))["opt_in_status"] is False
    assert states([gone])[gone.pk].member_status == "unsubscribed"
