"""A contact change costs only the requests whose data changed: the member PUT when only the member's part
(interests, names) changed, the customer PUT when only the customer's (an address), both for a new contact."""
import pytest
from shuup.core.models import MutableAddress
from shuup.testing.factories import create_random_contact_group

from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.mailchimp.resources import member_path
from shoop_mailchimp.mailchimp.transport import MailchimpSession
from shoop_mailchimp.models import BatchOrigin, ContactGroupInterest, MailchimpBatch, SyncState, SyncStatus
from shoop_mailchimp.sync import bulk, state
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.rounds import run_due_work
from tests.helpers import batch_posts, member_writes, new_person, row_of, synced_people

pytestmark = pytest.mark.django_db


def customer_puts(emulator):
    return [r for r in emulator.requests if r["method"] == "PUT" and "/customers/" in r["path"]]


def an_address(city="Turku"):
    return MutableAddress.objects.create(name="Ann", street="Aurakatu 1", city=city, postal_code="20100",
                                         country="FI")


def test_a_new_contact_costs_both_requests(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    emulator.clear_requests()
    person = new_person()
    drain()
    assert len(member_writes(emulator)) == 1 and len(customer_puts(emulator)) == 1
    assert row_of(person).unique_email_id


def test_a_group_change_sends_only_the_member(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = new_person()
    drain()
    member_id = row_of(person).unique_email_id
    group = create_random_contact_group(shop=configuration.shop)
    drain()
    emulator.clear_requests()
    group.members.add(person)
    drain()
    assert len(member_writes(emulator)) == 1 and not customer_puts(emulator)
    interest = [i for i in emulator.get_member(api_key, list_id, person.email)["interests"].values() if i]
    assert interest, "the new group's interest reached Mailchimp"
    row = row_of(person)
    assert row.status == SyncStatus.SYNCED and row.unique_email_id == member_id
    # And once sent, the same state costs nothing.
    emulator.clear_requests()
    person.save()
    drain()
    assert not member_writes(emulator) and not customer_puts(emulator)


def test_an_address_change_sends_only_the_customer(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = new_person()
    drain()
    before = emulator.get_member(api_key, list_id, person.email)
    emulator.clear_requests()
    person.default_billing_address = an_address()
    person.save()
    drain()
    assert not member_writes(emulator) and len(customer_puts(emulator)) == 1
    customer = emulator.get_customer(api_key, configuration.store_id, str(person.pk))
    assert customer["address"]["city"] == "Turku"
    assert emulator.get_member(api_key, list_id, person.email)["last_changed"] == before["last_changed"]
    row = row_of(person)
    assert row.status == SyncStatus.SYNCED and row.member_status == "subscribed" and row.unique_email_id


def test_a_name_change_sends_both(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = new_person()
    drain()
    emulator.clear_requests()
    person.first_name = "Renamed"
    person.save()
    drain()
    assert len(member_writes(emulator)) == 1 and len(customer_puts(emulator)) == 1
    assert emulator.get_customer(api_key, configuration.store_id, str(person.pk))["first_name"] == "Renamed"


def test_a_consent_change_always_sends_the_member(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = new_person()
    drain()
    emulator.clear_requests()
    person.marketing_permission = False
    person.save()
    drain()
    assert len(member_writes(emulator)) == 1, "a status change is never skipped"
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "unsubscribed"
    assert len(customer_puts(emulator)) == 1, "the member's status changed: so did the customer's opt-in"


def test_a_member_gone_from_the_audience_is_sent_again_in_full(configuration, mailchimp_account):
    """A reconciliation that misses a member re-queues its row with the fingerprint cleared: nothing is
    skipped then, the member comes back (transactional: never subscribed by a re-send)."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person()
    drain()
    with emulator.lock:  # gone (a send that never arrived): an archived member would be listed, and left archived
        del emulator.accounts[api_key].lists[list_id].members[subscriber_hash(person.email)]
    state.requeue_missing([row_of(person).pk])
    emulator.clear_requests()
    drain()
    assert len(member_writes(emulator)) == 1 and len(customer_puts(emulator)) == 1
    assert emulator.get_member(api_key, list_id, person.email)["status"] not in ("archived", "subscribed")


def test_a_group_burst_takes_one_batch_per_chunk_not_two(burst_settings, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    people = synced_people(8)
    group = create_random_contact_group(shop=burst_settings.shop)
    drain()
    emulator.clear_requests()
    group.members.add(*people)
    run_due_work()
    assert bulk.resume_batches(burst_settings.shop_id, poll_interval=0.02, timeout=30) == 0
    posts = batch_posts(emulator)
    assert len(posts) == 2, "two chunks of four, members only: no customer changed"
    assert all("/members/" in op["path"] for post in posts for op in post["body"]["operations"])
    assert MailchimpBatch.objects.filter(origin=BatchOrigin.BURST).count() == 2
    assert not SyncState.objects.exclude(status=SyncStatus.SYNCED).exists()
    interest = ContactGroupInterest.objects.get(group_id=group.pk).interest_id
    for person in people:
        assert emulator.get_member(api_key, list_id, person.email)["interests"][interest] is True


def test_an_address_burst_skips_the_member_phase(burst_settings, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    people = synced_people(6)
    for person in people:
        person.default_billing_address = an_address("Oulu")
        person.save()
    emulator.clear_requests()
    run_due_work()
    assert bulk.resume_batches(burst_settings.shop_id, poll_interval=0.02, timeout=30) == 0
    posts = batch_posts(emulator)
    assert len(posts) == 2, "two chunks (four and two), customers only"
    assert all("/customers/" in op["path"] for post in posts for op in post["body"]["operations"])
    for person in people:
        assert emulator.get_customer(api_key, burst_settings.store_id, str(person.pk))["address"]["city"] == "Oulu"
        row = row_of(person)
        assert row.status == SyncStatus.SYNCED and row.member_status == "subscribed" and row.unique_email_id


def test_a_customer_only_send_never_brings_a_removed_member_back_subscribed(configuration, mailchimp_account):
    """The member was archived in Mailchimp and the shop never heard (no webhook): the row still says
    subscribed. An address change sends only the customer, and a customer never re-subscribes anyone."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person()
    drain()
    assert row_of(person).member_status == "subscribed"
    with MailchimpSession(api_key) as session:
        session.delete(member_path(list_id, person.email))
    person.default_billing_address = an_address("Vaasa")
    person.save()
    emulator.clear_requests()
    drain()
    member = emulator.get_member(api_key, list_id, person.email)
    assert member is None or member["status"] != "subscribed"
    assert customer_puts(emulator)[0]["body"]["opt_in_status"] is False


def test_an_archived_member_is_sent_nothing(configuration, mailchimp_account):
    """Archived in Mailchimp (a webhook said so): no member write, no customer (it would bring it back); see
    test_archived_members."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person()
    drain()
    SyncState.objects.filter(pk=row_of(person).pk).update(member_status="archived")  # as a webhook says
    person.default_billing_address = an_address("Pori")
    person.save()
    emulator.clear_requests()
    drain()
    assert not member_writes(emulator) and not customer_puts(emulator)
