"""DRAIN_CONCURRENCY > 1: contacts are sent by several threads, rows are still closed one by one."""
import itertools
import sys

import pytest
from django.utils import timezone
from shuup.core.models import PersonContact

from shoop_mailchimp.mailchimp import limits
from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.models import MailchimpConfiguration, SyncState, SyncStatus
from shoop_mailchimp.sync.drainer import QUEUED_SENDS_PER_THREAD, drain
from tests.helpers import make_all_due, member_writes

pytestmark = pytest.mark.django_db  # no test here needs a commit (worker mode, explicit drains)
_counter = itertools.count(1)


@pytest.fixture
def concurrent_worker(configuration, settings):
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", DRAIN_CONCURRENCY=8)
    return configuration


def new_people(count, permission=True):
    return [
        PersonContact.objects.create(
            first_name="Cora%d" % number, last_name="Example", email="cora.%d@fastmail.com" % number,
            marketing_permission=permission,
        )
        for number in (next(_counter) for _ in range(count))
    ]


def states(people):
    return {state.object_id: state for state in SyncState.objects.filter(
        kind="contact", object_id__in=[person.pk for person in people]
    )}


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


def test_the_interpreter_hands_over_quickly_while_sending_and_as_before_after(concurrent_worker, monkeypatch):
    """Sending threads wait less for the interpreter lock during a concurrent drain; the process-wide
    setting is given back after it, also when it ends in an error."""
    from shoop_mailchimp.sync import drainer

    seen = []
    send = drainer.ShopDelivery._send
    monkeypatch.setattr(drainer.ShopDelivery, "_send",
                        lambda self, row, plan: seen.append(sys.getswitchinterval()) or send(self, row, plan))
    before = sys.getswitchinterval()
    new_people(3)
    assert drain()["contact synced"] == 3
    assert seen and set(seen) == {drainer.SWITCH_INTERVAL}
    assert sys.getswitchinterval() == before
    monkeypatch.setattr(drainer.ShopDelivery, "_close", lambda self, row, outcome: 1 / 0)
    new_people(1)
    with pytest.raises(ZeroDivisionError):
        drain()
    assert sys.getswitchinterval() == before


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


def send_default_group():
    """Shuup makes its default group for persons with the first one; its interest is sent here, so
    that the drains under test see contact rows only (a new interest sends its members again)."""
    new_people(1)
    drain()


def test_a_429_midway_stops_sending_and_loses_nothing(concurrent_worker, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    send_default_group()
    people = new_people(60)
    throttled = people[30]
    emulator.faults.latency(0.02)
    # Its first send's read is throttled (the member write of a first send is a POST, which names no member).
    emulator.faults.fail("/lists/*/members/%s" % subscriber_hash(throttled.email), status=429, times=1, method="GET")
    report = drain()
    by_id = states(people)
    synced = [person for person in people if by_id[person.pk].status == SyncStatus.SYNCED]
    pending = [person for person in people if by_id[person.pk].status == SyncStatus.PENDING]
    assert len(synced) + len(pending) == 60, "every row is either closed or given back"
    assert throttled in pending
    assert report["postponed"] == len(pending), "what was not sent is given back, untried"
    refused = next(r for r in emulator.requests if r["status"] == 429)
    started_after = [r for r in member_writes(emulator) if r["time"] > refused["time"] + refused["duration"]]
    assert len(started_after) <= QUEUED_SENDS_PER_THREAD * 8, "sends in flight and queued finish; nothing more"
    assert len(synced) < 59
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
    # Far more people than the sends queued at once (8 threads, QUEUED_SENDS_PER_THREAD each): the last ones
    # cannot have been started when the 401 of an early one comes back.
    people = new_people(100)
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


@pytest.fixture
def small_claims(concurrent_worker, settings):
    """Claims of 4 threads x 5 rows = 20, so that 90 contacts need the drain to claim more mid-way."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DRAIN_CONCURRENCY=4, DRAIN_CHUNK=5)
    return concurrent_worker


def test_contacts_claimed_mid_drain_are_sent_once_over_kept_alive_connections(small_claims, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    people = new_people(90)
    emulator.clear_requests()
    emulator.reset_stats()
    report = drain()
    assert report["contact synced"] == 90
    assert {state.status for state in states(people).values()} == {SyncStatus.SYNCED}
    sent = sorted(request["body"]["email_address"] for request in member_writes(emulator))
    assert sent == sorted(person.email for person in people), "every contact exactly once"
    customer_puts = [request for request in emulator.requests
                     if request["method"] == "PUT" and "/customers/" in request["path"]]
    assert len(customer_puts) == 90
    assert emulator.stats["connections"] <= 4, "connections are reused, one per sending thread at most"


def test_max_rounds_bounds_the_claims_made_mid_drain(small_claims, mailchimp_account):
    send_default_group()
    people = new_people(90)
    report = drain(max_rounds=2)
    assert report["contact synced"] == 40
    assert sum(state.status == SyncStatus.PENDING for state in states(people).values()) == 50


def test_a_429_after_a_mid_drain_claim_gives_every_claimed_row_back(small_claims, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    people = new_people(90)
    throttled = people[50]
    # Its first send's read is throttled (the member write of a first send is a POST, which names no member).
    emulator.faults.fail("/lists/*/members/%s" % subscriber_hash(throttled.email), status=429, times=1, method="GET")
    report = drain()
    by_id = states(people)
    assert report["contact synced"] < 90
    assert {state.status for state in by_id.values()} == {SyncStatus.SYNCED, SyncStatus.PENDING}
    assert not SyncState.objects.exclude(claimed_by="").exists(), "no row stays claimed"
    assert by_id[throttled.pk].status == SyncStatus.PENDING

    make_all_due()
    drain()
    assert {state.status for state in states(people).values()} == {SyncStatus.SYNCED}
    sent = [request["body"]["email_address"] for request in member_writes(emulator) if request["status"] == 200]
    assert sorted(sent) == sorted(person.email for person in people), "none sent twice, none lost"


def test_a_429_pauses_the_shop_for_the_next_drains_too(concurrent_worker, mailchimp_account, settings):
    """Rows recorded after the 429 wait as well: no worker knocks again before the retry time."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, RETRY_BASE_DELAY=2)
    emulator, api_key, list_id = mailchimp_account
    first = new_people(5)
    emulator.faults.fail("/lists/*/members/*", status=429, times=1)
    assert drain()["postponed"] >= 1
    assert 0 < limits.shop_throttled_for(concurrent_worker.shop_id) <= 2
    later = new_people(3)
    emulator.clear_requests()
    report = drain()
    assert report == {"postponed": 3}, "the new rows are not even tried"
    assert emulator.requests == []
    assert {state.status for state in states(later).values()} == {SyncStatus.PENDING}

    make_all_due()  # as if the retry time had passed
    drain()
    assert {state.status for state in states(first + later).values()} == {SyncStatus.SYNCED}
    assert not [request for request in emulator.requests if request["status"] == 429]


@pytest.mark.parametrize("concurrency", [1, 8])
def test_two_first_sends_of_one_address_are_sent_one_after_the_other(concurrent_worker, mailchimp_account, settings,
                                                                     concurrency):
    """Two contacts of one address nobody proved (a shopper's, and a stranger's account registered with it) are first
    sent by one concurrent drain. Both threads read the member at once and find none, both write the member as a new
    one, and both rows take it for their own: the stranger's names end on it or not by which write came last, and
    the stranger's withdrawal or erasure ends the shopper's member. Sent one after the other, the second send finds
    the member the first created and leaves it alone."""
    emulator, api_key, list_id = mailchimp_account
    email = "shared.at.once@fastmail.com"
    people = [PersonContact.objects.create(first_name=name, email=email, marketing_permission=False)
              for name in ("Ann", "Mallory")]
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DRAIN_CONCURRENCY=concurrency)
    emulator.faults.latency(0.1)
    drain()
    rows = states(people)
    assert {row.status for row in rows.values()} == {SyncStatus.SYNCED}
    assert sorted(row.foreign_member for row in rows.values()) == [False, True], (
        "both contacts took the member of their address for their own")
    owner = next(person for person in people if rows[person.pk].foreign_member is False)
    assert emulator.get_member(api_key, list_id, email)["merge_fields"]["FNAME"] == owner.first_name
