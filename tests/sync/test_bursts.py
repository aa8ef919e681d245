"""Bursts: many contacts due at once go through batches by themselves, with the one-by-one path's rules."""
import datetime
import threading
import time

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from shuup.core.models import Contact
from shuup.testing.factories import create_random_contact_group

from shoop_mailchimp import shop_consent
from shoop_mailchimp.journal import Journal
from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.mailchimp.resources import interests_path, member_path
from shoop_mailchimp.mailchimp.transport import MailchimpSession, open_session
from shoop_mailchimp.models import (
    BatchOrigin,
    BatchStatus,
    ContactGroupInterest,
    MailchimpBatch,
    MailchimpConfiguration,
    MailchimpLogEntry,
    SyncKind,
    SyncState,
    SyncStatus,
)
from shoop_mailchimp.sync import bulk, bursts, kinds, state
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.outcome import Outcome
from shoop_mailchimp.sync.rounds import run_due_work
from tests.bulk.conftest import members_sent_per_hash
from tests.helpers import (
    batch_posts,
    make_all_due,
    member_writes,
    members_written_by_batches,
    new_person,
    order_row,
    place_order,
    row_of,
    synced_people,
    wait_for,
    wait_for_batches,
)
from tests.sync.conftest import BURST_THRESHOLD as THRESHOLD
from tests.webhooks.helpers import post_event

pytestmark = pytest.mark.django_db

#: A ``batch_delay`` that holds a batch until the test lowers it (lowering takes effect at once).
HELD = 60

def finish_batches(configuration):
    assert bulk.resume_batches(configuration.shop_id, poll_interval=0.02, timeout=30) == 0


def test_a_burst_of_changed_contacts_reaches_mailchimp_through_batches(burst_settings, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    people = synced_people(3)
    group = create_random_contact_group(shop=burst_settings.shop)
    drain()
    newcomers = [new_person(permission=number % 2 == 0) for number in range(7)]
    for person in newcomers:  # accounts activated by their owners: no member is read before their first send
        shop_consent.record_proof(person.pk, person.email)
    emulator.clear_requests()
    group.members.add(*people, *newcomers)  # ten contacts changed at once

    run_due_work()
    finish_batches(burst_settings)

    burst = MailchimpBatch.objects.filter(origin=BatchOrigin.BURST)
    assert burst.count() == 3 and sum(burst.values_list("rows", flat=True)) == 10
    assert all(batch.status == BatchStatus.DONE for batch in burst)
    assert len(batch_posts(emulator)) == 6, "each batch in two phases: members, then customers"
    assert not member_writes(emulator), "no contact of the burst went one by one"
    interest = ContactGroupInterest.objects.get(group_id=group.pk).interest_id
    for person in people + newcomers:
        member = emulator.get_member(api_key, list_id, person.email)
        assert member["interests"][interest] is True
        assert member["status"] == ("subscribed" if person.marketing_permission else "transactional")
        customer = emulator.get_customer(api_key, burst_settings.store_id, str(person.pk))
        assert customer["opt_in_status"] is (member["status"] == "subscribed")
        row = row_of(person)
        assert row.status == SyncStatus.SYNCED and row.member_status == member["status"] and not row.claimed_by
        assert row.unique_email_id == member["unique_email_id"]
    assert MailchimpLogEntry.objects.filter(action="bulk.burst").exists()
    # Nothing is left to send, and nothing is sent twice.
    emulator.clear_requests()
    run_due_work()
    assert not members_sent_per_hash(emulator) and not batch_posts(emulator)


def test_fewer_due_contacts_than_the_threshold_go_one_by_one(burst_settings, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    people = [new_person() for _ in range(THRESHOLD - 1)]
    emulator.clear_requests()
    run_due_work()
    assert not MailchimpBatch.objects.exists() and not batch_posts(emulator)
    assert all(row_of(person).status == SyncStatus.SYNCED for person in people)


@pytest.mark.parametrize("threshold", [0, None])
def test_a_threshold_of_nothing_turns_bursts_off(burst_settings, settings, threshold):
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, BURST_THRESHOLD=threshold)
    people = [new_person() for _ in range(THRESHOLD * 2)]
    run_due_work()
    assert not MailchimpBatch.objects.exists()
    assert all(row_of(person).status == SyncStatus.SYNCED for person in people)


def test_a_burst_never_subscribes_and_keeps_what_mailchimp_says(burst_settings, mailchimp_account):
    """Consent rules of the one-by-one path: an unsubscribe made in Mailchimp (its webhook lost) stands and
    withdraws the shop's consent; a consent withdrawn in the shop unsubscribes; nobody is subscribed."""
    emulator, api_key, list_id = mailchimp_account
    people = synced_people(8)
    left_in_mailchimp, withdrawn_in_shop = people[0], people[1]
    emulator.edit_member_by_hand(api_key, list_id, left_in_mailchimp.email, status="unsubscribed")
    withdrawn_in_shop.marketing_permission = False
    withdrawn_in_shop.save()
    group = create_random_contact_group(shop=burst_settings.shop)
    group.members.add(*people)
    emulator.clear_requests()

    run_due_work()
    finish_batches(burst_settings)

    assert MailchimpBatch.objects.filter(origin=BatchOrigin.BURST).exists()
    assert not member_writes(emulator)
    assert emulator.get_member(api_key, list_id, left_in_mailchimp.email)["status"] == "unsubscribed"
    left_in_mailchimp.refresh_from_db()
    assert left_in_mailchimp.marketing_permission is False, "the shop learnt the unsubscribe from the answer"
    assert row_of(left_in_mailchimp).opt_in is False
    assert emulator.get_member(api_key, list_id, withdrawn_in_shop.email)["status"] == "unsubscribed"
    assert row_of(withdrawn_in_shop).opt_in is False and row_of(withdrawn_in_shop).consent_sent_at
    for person in people[2:]:
        assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    # Later changes, sent one by one, do not bring the unsubscribed person back.
    left_in_mailchimp.first_name = "Later"
    left_in_mailchimp.save()
    emulator.clear_requests()
    run_due_work()
    assert len(member_writes(emulator, left_in_mailchimp.email)) == 1
    assert emulator.get_member(api_key, list_id, left_in_mailchimp.email)["status"] == "unsubscribed"


def test_sends_that_need_answers_in_between_go_one_by_one_in_the_same_round(burst_settings, mailchimp_account):
    """A new address (the member is moved) and a consent given again (a compliance state may answer) are not
    batch work: the drainer sends them itself, while the rest of the burst goes in batches."""
    emulator, api_key, list_id = mailchimp_account
    people = synced_people(8, permission=False)
    moved, consenting = people[0], people[1]
    old_email = moved.email
    moved.email = "moved.%d@fastmail.com" % moved.pk
    moved.save()
    consenting.marketing_permission = True
    consenting.save()
    emulator.edit_member_by_hand(api_key, list_id, consenting.email, status="unsubscribed")
    for person in people[2:]:
        person.first_name = "Renamed"
        person.save()
    emulator.clear_requests()

    run_due_work()
    one_by_one = {r["path"].rsplit("/", 1)[-1] for r in emulator.requests
                  if "/members/" in r["path"] and r["method"] in ("PUT", "PATCH")}
    assert one_by_one == {subscriber_hash(old_email), subscriber_hash(moved.email), subscriber_hash(consenting.email)}
    finish_batches(burst_settings)

    assert sum(MailchimpBatch.objects.filter(origin=BatchOrigin.BURST).values_list("rows", flat=True)) == 6
    assert emulator.get_member(api_key, list_id, moved.email)["email_address"] == moved.email
    assert emulator.get_member(api_key, list_id, old_email) is None
    # Unsubscribed in Mailchimp, consent given in the shop again: confirmation asked, not a subscription.
    assert emulator.get_member(api_key, list_id, consenting.email)["status"] == "pending"
    for person in people[2:]:
        assert emulator.get_member(api_key, list_id, person.email)["merge_fields"]["FNAME"] == "Renamed"
        assert emulator.get_member(api_key, list_id, person.email)["status"] == "transactional"
    assert all(row_of(person).status == SyncStatus.SYNCED for person in people)


def test_a_change_while_its_batch_runs_is_sent_after_it(burst_settings, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    emulator.batch_delay = HELD
    people = synced_people(THRESHOLD)
    for person in people:
        person.first_name = "First"
        person.save()
    run_due_work()
    changed = people[0]
    assert row_of(changed).status == SyncStatus.SENDING
    changed.first_name = "Second"
    changed.save()
    assert not state.claim(kind=SyncKind.CONTACT), "the batch's rows are not the worker's"

    emulator.batch_delay = 0
    finish_batches(burst_settings)
    assert row_of(changed).status == SyncStatus.PENDING, "the newer change is still to be sent"
    run_due_work()
    assert emulator.get_member(api_key, list_id, changed.email)["merge_fields"]["FNAME"] == "Second"
    assert row_of(changed).status == SyncStatus.SYNCED
    assert emulator.get_member(api_key, list_id, people[1].email)["merge_fields"]["FNAME"] == "First"


def test_an_interest_deleted_in_mailchimp_mid_burst_is_repaired_and_the_contacts_arrive(burst_settings,
                                                                                        mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    people = synced_people(THRESHOLD)
    group = create_random_contact_group(shop=burst_settings.shop)
    drain()
    interest = ContactGroupInterest.objects.get(group_id=group.pk).interest_id
    with MailchimpSession(api_key) as session:
        session.delete(interests_path(list_id, burst_settings.interest_category_id, interest))
    group.members.add(*people)

    run_due_work()
    finish_batches(burst_settings)
    # Mailchimp refused the members for the missing interest; nobody failed for it (how many were already
    # sent again after the repair depends on how quickly the rounds went).
    assert MailchimpLogEntry.objects.filter(action="contact.sync", message__icontains="interest").exists()
    assert not any(row_of(person).status == SyncStatus.FAILED for person in people)
    # The groups were queued for repair; once repaired, the contacts arrive (by the next attempt).
    for _ in range(3):
        make_all_due()
        run_due_work()
        finish_batches(burst_settings)
    new_interest = ContactGroupInterest.objects.get(group_id=group.pk).interest_id
    assert new_interest != interest
    for person in people:
        assert emulator.get_member(api_key, list_id, person.email)["interests"][new_interest] is True
        assert row_of(person).status == SyncStatus.SYNCED


def test_an_address_mailchimp_refuses_fails_alone_and_is_not_batched_again_unchanged(burst_settings,
                                                                                     mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    people = [new_person() for _ in range(THRESHOLD - 1)] + [new_person(email="fake@example.com")]
    refused = people[-1]
    run_due_work()
    finish_batches(burst_settings)
    assert all(row_of(person).status == SyncStatus.SYNCED for person in people[:-1])
    row = row_of(refused)
    assert row.status == SyncStatus.FAILED and "fake" in row.last_error.lower() and row.refused_fingerprint
    assert emulator.get_member(api_key, list_id, refused.email) is None

    for person in people:
        person.save()  # saved again, nothing changed
    emulator.clear_requests()
    run_due_work()
    finish_batches(burst_settings)
    assert members_sent_per_hash(emulator).get(subscriber_hash(refused.email)) is None
    assert row_of(refused).status == SyncStatus.FAILED


def test_the_status_page_shows_a_burst_in_progress(burst_settings, mailchimp_account, admin_client):
    emulator, api_key, list_id = mailchimp_account
    emulator.batch_delay = HELD
    people = [new_person() for _ in range(THRESHOLD)]
    due = state.due(kind=SyncKind.CONTACT).count()  # also the admin's own contact, made at a first login
    run_due_work()
    data = admin_client.get(reverse("shuup_admin:shoop_mailchimp.status_data")).json()
    assert "%d changed contacts go through them" % due in data["bulk"]["text"]
    html = admin_client.get(reverse("shuup_admin:shoop_mailchimp.status")).content.decode()
    assert "burst threshold" in html
    emulator.batch_delay = 0
    finish_batches(burst_settings)
    assert all(row_of(person).status == SyncStatus.SYNCED for person in people)
    assert "burst" not in admin_client.get(reverse("shuup_admin:shoop_mailchimp.status_data")).json()["bulk"]["text"]


def test_an_erasure_while_its_batch_waits_is_sent_by_the_drainer(burst_settings, mailchimp_account):
    """A batch whose submission failed waits; a contact of it erased meanwhile is not batch work: the batch
    leaves it to the drainer, and the next rounds go on for everyone."""
    emulator, api_key, list_id = mailchimp_account
    people = synced_people(THRESHOLD)
    for person in people:
        person.first_name = "Changed"
        person.save()
    emulator.faults.fail("/batches", status=503, method="POST")
    run_due_work()
    waiting = MailchimpBatch.objects.filter(origin=BatchOrigin.BURST)
    assert waiting.filter(status=BatchStatus.PREPARING).exists()
    erased = people[0]
    state.erase(burst_settings.shop_id, SyncKind.CONTACT, [erased.pk])
    emulator.faults.clear()

    finish_batches(burst_settings)
    run_due_work()
    assert emulator.get_member(api_key, list_id, erased.email) is None, "erased for good"
    for person in people[1:]:
        assert emulator.get_member(api_key, list_id, person.email)["merge_fields"]["FNAME"] == "Changed"
        assert row_of(person).status == SyncStatus.SYNCED


def test_a_batch_is_submitted_once_when_two_workers_look_at_it(burst_settings, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    emulator.batch_delay = HELD
    people = synced_people(THRESHOLD)
    for person in people:
        person.first_name = "Once"
        person.save()
    rows = state.claim(kind=SyncKind.CONTACT, limit=100)
    stale = bursts.hand_over(burst_settings.shop_id, rows, SyncKind.CONTACT)  # a worker that loaded the batch...
    emulator.clear_requests()
    bulk.check_batches(burst_settings.shop_id)  # ...while another submits it
    assert len(batch_posts(emulator)) == 1
    with open_session(burst_settings) as session:
        bulk.submit_batch(stale, burst_settings, session, Journal(burst_settings.shop_id), {})
    assert len(batch_posts(emulator)) == 1, "the second worker left the batch alone"
    emulator.batch_delay = 0
    finish_batches(burst_settings)
    assert all(row_of(person).status == SyncStatus.SYNCED for person in people)


def test_an_unseen_unsubscribe_is_not_applied_to_a_row_changed_while_its_batch_ran(burst_settings,
                                                                                  mailchimp_account):
    """The batch's answer says "unsubscribed", but the contact changed meanwhile: the row is sent again, and
    only that later answer, about the current state, withdraws the shop's consent."""
    emulator, api_key, list_id = mailchimp_account
    emulator.batch_delay = HELD
    people = synced_people(THRESHOLD)
    changing = people[0]
    emulator.edit_member_by_hand(api_key, list_id, changing.email, status="unsubscribed")
    for person in people:
        person.first_name = "Batched"
        person.save()
    run_due_work()
    changing.refresh_from_db()
    changing.last_name = "Meanwhile"
    changing.save()
    emulator.batch_delay = 0
    finish_batches(burst_settings)
    changing.refresh_from_db()
    assert changing.marketing_permission is True and row_of(changing).status == SyncStatus.PENDING
    run_due_work()
    changing.refresh_from_db()
    assert changing.marketing_permission is False, "the next send's answer withdrew it"
    assert emulator.get_member(api_key, list_id, changing.email)["status"] == "unsubscribed"


def test_someone_who_unsubscribes_between_a_bursts_two_phases_is_sent_again_one_by_one(burst_settings,
                                                                                        mailchimp_account):
    """They had subscribed in Mailchimp themselves: the members phase reads "subscribed", so their customer
    would carry an opt-in, which Mailchimp refuses once they unsubscribed meanwhile. That is no failure of
    the contact: the one-by-one send reads the member's status and sends the customer without it."""
    emulator, api_key, list_id = mailchimp_account
    people = synced_people(THRESHOLD, permission=False)
    with MailchimpSession(api_key) as session:
        for person in people:
            session.patch(member_path(list_id, person.email), {"status": "subscribed"})
    group = create_random_contact_group(shop=burst_settings.shop)
    drain()  # the group's interest
    group.members.add(*people)
    emulator.batch_delay = HELD
    run_due_work()  # the burst's members phase is submitted
    emulator.batch_delay = 0
    wait_for_batches(emulator, api_key)  # Mailchimp ran the members phase
    # The customers phase is submitted in the look that reads the members phase: Mailchimp runs it after the
    # unsubscribe below.
    emulator.batch_delay = HELD
    burst = MailchimpBatch.objects.filter(origin=BatchOrigin.BURST)
    while burst.filter(phase=0).exclude(status=BatchStatus.DONE).exists():
        bulk.check_batches(burst_settings.shop_id)
    leaving = people[0]
    with MailchimpSession(api_key) as session:  # after the members phase, before the customers phase
        session.patch(member_path(list_id, leaving.email), {"status": "unsubscribed"})
    emulator.batch_delay = 0
    finish_batches(burst_settings)
    assert row_of(leaving).status == SyncStatus.PENDING, "sent again, not failed"
    make_all_due()
    drain()
    for person in people:
        assert row_of(person).status == SyncStatus.SYNCED
        customer = emulator.get_customer(api_key, burst_settings.store_id, str(person.pk))
        assert customer["opt_in_status"] is (person != leaving)
    assert emulator.get_member(api_key, list_id, leaving.email)["status"] == "unsubscribed"
    assert row_of(leaving).member_status == "unsubscribed"


def test_an_order_waiting_for_a_customer_held_in_a_burst_uses_up_no_attempt(burst_settings, mailchimp_account,
                                                                            settings):
    """One by one a contact goes before its order in the same round; in a burst its batch may hold it for
    minutes. The order waits without using up attempts (it used to fail after MAX_ATTEMPTS rounds), and is
    sent once its customer is in Mailchimp (found by an independent review)."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, RETRY_BASE_DELAY=0.01, RETRY_MAX_DELAY=0.02,
                                    MAX_ATTEMPTS=3)
    emulator.batch_delay = HELD  # Mailchimp runs the burst's batch a while later
    people = [new_person() for _ in range(THRESHOLD + 2)]
    order, _products = place_order(burst_settings.shop, people[0])
    rounds_waited = 0
    while rounds_waited < 5:  # more rounds than MAX_ATTEMPTS while the batch is out
        run_due_work()
        # The order's wait is over at once (the batch's lease on its customer is left alone).
        SyncState.objects.filter(kind="order").update(next_attempt_at=timezone.now())
        if row_of(people[0]).status != SyncStatus.SENDING:
            break
        waiting = order_row(order)
        assert waiting.status == SyncStatus.PENDING and waiting.attempts == 0, waiting.last_error
        assert "waiting for its customer" in waiting.last_error
        rounds_waited += 1
    assert rounds_waited == 5, "the batch was out for five rounds"
    emulator.batch_delay = 0
    finish_batches(burst_settings)
    make_all_due()
    run_due_work()
    assert order_row(order).status == SyncStatus.SYNCED
    assert [o["id"] for o in emulator.orders(api_key, burst_settings.store_id)] == [str(order.pk)]


def test_a_phase_with_nothing_to_send_closes_its_rows_in_the_look_that_read_the_phase_before(burst_settings,
                                                                                            mailchimp_account):
    """A burst of group changes leaves every customer as it was: the look at the batches that reads the
    members closes the rows at once, not a BATCH_POLL_INTERVAL later."""
    emulator, api_key, list_id = mailchimp_account
    people = synced_people(THRESHOLD)
    group = create_random_contact_group(shop=burst_settings.shop)
    drain()
    group.members.add(*people)
    emulator.batch_delay = HELD  # the burst's own look finds its batches still pending
    bursts.send_bursts()
    assert MailchimpBatch.objects.filter(status=BatchStatus.SUBMITTED).count() == 2
    emulator.batch_delay = 0
    wait_for_batches(emulator, api_key)

    assert bulk.check_batches(burst_settings.shop_id) == 0
    interest = ContactGroupInterest.objects.get(group_id=group.pk).interest_id
    for person in people:
        assert row_of(person).status == SyncStatus.SYNCED
        assert emulator.get_member(api_key, list_id, person.email)["interests"][interest] is True


def test_an_unsubscribe_heard_while_its_batch_runs_is_not_overwritten_by_the_batch(burst_settings,
                                                                                  mailchimp_account, client):
    """The webhook's fact is newer than the batch's results: the row keeps "unsubscribed", so consent given
    again later in the shop is sent, and Mailchimp asks the person to confirm."""
    emulator, api_key, list_id = mailchimp_account
    people = synced_people(THRESHOLD)
    group = create_random_contact_group(shop=burst_settings.shop)
    drain()
    interest = ContactGroupInterest.objects.get(group_id=group.pk).interest_id
    leaving = people[0]
    # A webhook's fired_at has whole seconds: it must be later than the rows' last send. The rows were sent
    # two seconds ago, rather than the test waiting for the next second.
    two_seconds_ago = timezone.now() - datetime.timedelta(seconds=2)
    SyncState.objects.filter(consent_sent_at__isnull=False).update(consent_sent_at=two_seconds_ago)
    SyncState.objects.filter(mailchimp_fact_at__isnull=False).update(mailchimp_fact_at=two_seconds_ago)
    emulator.batch_delay = HELD  # the burst's own look finds its batch pending
    group.members.add(*people)
    bursts.send_bursts()
    emulator.batch_delay = 0
    wait_for(emulator, lambda: emulator.get_member(api_key, list_id, leaving.email)["interests"].get(interest),
             "Mailchimp running the member PUT", timeout=30)
    emulator.set_member_status(api_key, list_id, leaving.email, "unsubscribed")
    assert post_event(client, burst_settings, "unsubscribe", email=leaving.email).status_code == 200
    finish_batches(burst_settings)
    assert row_of(leaving).status == SyncStatus.PENDING, "a fact heard mid-send has the row sent again"
    drain()

    row = row_of(leaving)
    assert row.status == SyncStatus.SYNCED and row.member_status == "unsubscribed" and row.opt_in is False
    person = Contact.objects.get(pk=leaving.pk)
    assert not person.marketing_permission
    person.marketing_permission = True
    person.save()
    drain()
    assert emulator.get_member(api_key, list_id, leaving.email)["status"] == "pending"


def shop_connection():
    """A second PostgreSQL connection, standing for a shop's request with its transaction open."""
    import psycopg2

    database = connection.settings_dict
    return psycopg2.connect(host=database["HOST"], port=database["PORT"], user=database["USER"],
                            dbname=database["NAME"])


def claimed_rows(shop_id, count):
    people = [new_person() for _number in range(count)]
    rows = sorted(state.claim(shop_id=shop_id, limit=10, kind=SyncKind.CONTACT), key=lambda row: row.id)
    assert [row.object_id for row in rows] == sorted(person.pk for person in people)
    return rows


class ShopRequest(threading.Thread):
    """A shop's request in a transaction of its own: it saves the contact of ``first`` and, once the worker
    (this test's connection) waits for a lock, the contact of ``then`` (if any); then it ends."""

    def __init__(self, first, then=None):
        super().__init__()
        self.first, self.then = first, then
        self.locked, self.errors = threading.Event(), []
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            [[self.worker_pid]] = cursor.fetchall()
        self.start()
        assert self.locked.wait(10)

    def run(self):
        shop = shop_connection()
        try:
            with shop.cursor() as cursor:
                cursor.execute("SELECT id FROM shoop_mailchimp_syncstate WHERE id = %s FOR UPDATE", [self.first.id])
                self.locked.set()
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'",
                                   [self.worker_pid])
                    if cursor.fetchall():
                        break
                    time.sleep(0.01)
                if self.then is not None:
                    cursor.execute("SELECT id FROM shoop_mailchimp_syncstate WHERE id = %s FOR UPDATE",
                                   [self.then.id])
            shop.commit()
        except Exception as error:  # a deadlock PostgreSQL resolved by aborting the shop's request
            self.errors.append(error)
            shop.rollback()
        finally:
            shop.close()


WORKER_UPDATES = {
    "renew_lease": lambda rows: state.renew_lease(rows, 60),
    "extend_lease": lambda rows: state.extend_lease(rows[0].claimed_by, 60, batch_id="b1"),
    "release": lambda rows: state.release(rows),
    "lapse_token": lambda rows: state.lapse_token(rows[0].claimed_by),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("update", sorted(WORKER_UPDATES))
def test_on_postgresql_a_worker_updating_many_rows_never_deadlocks_a_shop_transaction(burst_settings, update):
    """A shop's request saves the last contact, then (while the worker's update of all three waits for it)
    the first. Updating many rows in one statement held the first while waiting for the last: a deadlock,
    and PostgreSQL aborts one side, possibly the shop's request."""
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL locks rows")
    rows = claimed_rows(burst_settings.shop_id, 3)
    request = ShopRequest(rows[2], then=rows[0])
    try:
        WORKER_UPDATES[update](rows)
    finally:
        request.join(20)
    assert request.errors == []
    changed = SyncState.objects.filter(id__in=[row.id for row in rows])
    if update == "release":
        assert set(changed.values_list("claimed_by", flat=True)) == {""}
    else:
        assert len(set(changed.values_list("lease_until", flat=True))) == 1  # all three renewed together


#: An admin's job or button queueing many rows again: (the status the rows have before, the call).
JOB_UPDATES = {
    "requeue_all": (SyncStatus.SYNCED, lambda shop_id, rows: state.requeue_all(shop_id, SyncKind.CONTACT)),
    "resend_all": (SyncStatus.SYNCED, lambda shop_id, rows: state.resend_all(shop_id, SyncKind.CONTACT)),
    "requeue_for_new_store": (SyncStatus.SYNCED, lambda shop_id, rows: kinds.requeue_for_new_store(shop_id)),
    "requeue_missing": (SyncStatus.SYNCED, lambda shop_id, rows: state.requeue_missing([row.id for row in rows])),
    "resend_failed": (SyncStatus.FAILED, lambda shop_id, rows: state.resend_failed(shop_id)),
    "make_due": (SyncStatus.PENDING, lambda shop_id, rows: state.make_due(shop_id)),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("update", sorted(JOB_UPDATES))
def test_on_postgresql_a_job_queueing_many_rows_never_deadlocks_a_shop_transaction(burst_settings, update):
    """As above, for the updates of Initialize, a reconciliation, a merge-field change and the admin's buttons:
    one statement for all rows held the first while waiting for the last, and PostgreSQL aborted one side."""
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL locks rows")
    status, job = JOB_UPDATES[update]
    rows = claimed_rows(burst_settings.shop_id, 3)
    later = timezone.now() + datetime.timedelta(hours=1)
    SyncState.objects.filter(id__in=[row.id for row in rows]).update(
        status=status, claimed_by="", lease_until=None, next_attempt_at=later)
    request = ShopRequest(rows[2], then=rows[0])
    try:
        assert job(burst_settings.shop_id, rows) == 3
    finally:
        request.join(20)
    assert request.errors == []
    changed = SyncState.objects.filter(id__in=[row.id for row in rows])
    assert set(changed.values_list("status", flat=True)) == {SyncStatus.PENDING}
    assert all(due_at < later for due_at in changed.values_list("next_attempt_at", flat=True))


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_burst_leaves_a_row_a_shop_transaction_holds_to_the_next_round(burst_settings):
    """Handing rows over to a burst's batch happens in a transaction (with the batch), so it must not wait for
    a row while holding the others: the row a shop's transaction holds goes back to the queue instead."""
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL locks rows")
    rows = claimed_rows(burst_settings.shop_id, 3)
    request = ShopRequest(rows[1])
    try:
        batch = bursts.hand_over(burst_settings.shop_id, rows, SyncKind.CONTACT)
    finally:
        request.join(20)
    assert request.errors == []
    assert batch.rows == 2
    assert set(state.held_by(batch.token).values_list("id", flat=True)) == {rows[0].id, rows[2].id}
    left = SyncState.objects.get(id=rows[1].id)
    assert left.status == SyncStatus.PENDING and left.claimed_by == ""


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_batch_close_never_waits_for_a_row_a_shop_transaction_holds(burst_settings):
    """Waiting while holding the batch's other rows could deadlock with the shop's transaction, which locks
    rows in any order; the row held is left for ``state.close``, one per transaction. Runs on PostgreSQL
    (tests/services/test_batches_on_postgresql.py), where rows are closed many per statement."""
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL closes many rows per statement")
    rows = claimed_rows(burst_settings.shop_id, 3)
    shop_transaction = shop_connection()
    try:
        with shop_transaction.cursor() as cursor:  # a contact saved in a transaction still open
            cursor.execute("SELECT id FROM shoop_mailchimp_syncstate WHERE id = %s FOR UPDATE", [rows[1].id])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # a close that waits fails instead of hanging the test
        started = time.monotonic()
        closed = state.close_synced_together([(row, Outcome.synced(fingerprint="f")) for row in rows])
        assert time.monotonic() - started < 1, "the close waited for the shop's transaction"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
        shop_transaction.rollback()
        shop_transaction.close()
    assert closed == {rows[0].id, rows[2].id}
    assert state.close(rows[1], Outcome.synced(fingerprint="f")) == SyncStatus.SYNCED


@pytest.mark.parametrize("gone", ["audience", "store"])
def test_a_burst_whose_audience_or_store_is_gone_pauses_the_shop_as_one_by_one_does(burst_settings,
                                                                                    mailchimp_account, gone):
    """Every operation comes back 404: the batch path checks the audience and the store as the drainer does
    after a 404, pauses the shop and fails no row (found by review: each row failed, the shop went on)."""
    emulator, api_key, list_id = mailchimp_account
    people = synced_people(THRESHOLD)
    for person in people:
        person.first_name = "Changed"
        person.save()
    emulator.batch_delay = HELD
    run_due_work()  # the members phase is submitted
    if gone == "audience":
        emulator.delete_list(api_key, list_id)
    else:
        emulator.delete_store(api_key, burst_settings.store_id)
        emulator.faults.fail("*/members/*", status=404, method="PUT")  # as the store's customers would
    emulator.batch_delay = 0
    bulk.resume_batches(burst_settings.shop_id, poll_interval=0.05, timeout=2)  # ends paused, batches left
    configuration = MailchimpConfiguration.objects.get(pk=burst_settings.pk)
    assert gone in configuration.paused_reason
    assert not any(row_of(person).status == SyncStatus.FAILED for person in people)
    assert MailchimpBatch.objects.filter(status=BatchStatus.LOST).exists()


def test_an_unsubscribe_heard_while_a_consent_waits_in_a_batch_is_sent_after_it(burst_settings, mailchimp_account,
                                                                                 client):
    """Found by review: a shopper gives consent again (the batch asks Mailchimp for "pending"), then
    unsubscribes in Mailchimp before Mailchimp runs the batch. The row is sent again after the batch, and the
    member ends unsubscribed, not pending against the withdrawn consent."""
    emulator, api_key, list_id = mailchimp_account
    burst_settings.double_opt_in = True
    burst_settings.save()
    people = synced_people(THRESHOLD * 2, permission=False)
    group = create_random_contact_group(shop=burst_settings.shop)
    drain()
    rejoining = Contact.objects.get(pk=people[0].pk)
    rejoining.marketing_permission = True
    rejoining.save()
    emulator.batch_delay = HELD
    group.members.add(*people)
    run_due_work()
    assert MailchimpBatch.objects.filter(origin=BatchOrigin.BURST, status=BatchStatus.SUBMITTED).exists()
    emulator.edit_member_by_hand(api_key, list_id, rejoining.email, status="unsubscribed")
    assert post_event(client, burst_settings, "unsubscribe", email=rejoining.email).status_code == 200
    emulator.batch_delay = 0
    assert bulk.resume_batches(burst_settings.shop_id, poll_interval=0.1, timeout=30) == 0
    drain()
    assert emulator.get_member(api_key, list_id, rejoining.email)["status"] == "unsubscribed"
    assert Contact.objects.get(pk=rejoining.pk).marketing_permission is False


def test_a_member_requeued_as_missing_while_its_batch_runs_is_sent_in_full_after_it(burst_settings,
                                                                                    mailchimp_account):
    """Found by review: a reconciliation queues a row again in full (its member was deleted in Mailchimp)
    while a batch holds it; the batch's close must not write back the fingerprint the requeue cleared."""
    emulator, api_key, list_id = mailchimp_account
    people = synced_people(THRESHOLD)
    group = create_random_contact_group(shop=burst_settings.shop)
    drain()
    emulator.batch_delay = HELD  # the round's own look finds the batch pending
    group.members.add(*people)
    run_due_work()
    gone = people[0]
    interest = ContactGroupInterest.objects.get(group_id=group.pk).interest_id
    emulator.batch_delay = 0
    wait_for(emulator, lambda: (emulator.get_member(api_key, list_id, gone.email) or {}).get("interests", {})
             .get(interest), "Mailchimp running the member PUT")
    with MailchimpSession(api_key) as session:
        session.delete(member_path(list_id, gone.email))  # archived by an admin: a reconciliation misses it
    assert state.requeue_missing([row_of(gone).id]) == 1
    assert bulk.resume_batches(burst_settings.shop_id, poll_interval=0.1, timeout=30) == 0
    drain()
    assert emulator.get_member(api_key, list_id, gone.email) is not None, "the missing member was never re-added"


@pytest.mark.parametrize("threshold", ["6", -1, 6.0, "abc"])
def test_a_threshold_that_is_no_whole_number_sends_one_by_one_and_says_why(burst_settings, mailchimp_account,
                                                                           settings, caplog, threshold):
    """The system check refuses it (E008), but a worker may never run ``manage.py check``: its rounds go on,
    one by one, and the log says why."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, BURST_THRESHOLD=threshold)
    people = [new_person() for _ in range(THRESHOLD + 2)]
    run_due_work()
    assert not MailchimpBatch.objects.exists()
    assert all(row_of(person).status == SyncStatus.SYNCED for person in people)
    assert "BURST_THRESHOLD" in caplog.text


@pytest.mark.parametrize("submitted_at_once", [True, False], ids=["with-the-bursts-plans", "planned-again"])
def test_a_lost_bursts_rows_go_in_one_new_batch_and_a_withdrawal_meanwhile_unsubscribes(burst_settings,
                                                                                        mailchimp_account, settings,
                                                                                        submitted_at_once):
    """Found by review: the rows of a burst batch Mailchimp lost (or a disconnect stopped, or one set aside)
    come back recovered, and a burst left recovered rows out: 10,000 of them went back one by one, two
    requests each. They go in a new batch, which keeps the rule a recovered row follows: the lost batch may
    have subscribed its members, so a consent withdrawn meanwhile is sent as a withdrawal, and nobody is left
    out. ``planned-again``: the first submission fails, and the batch is planned again from the database
    (as another worker, or a worker after a crash, would plan it), where the rows no longer carry the token
    that told they were recovered."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, BATCH_SIZE=10)
    people = [new_person(permission=True) for _ in range(THRESHOLD + 2)]
    emulator.batch_delay = HELD  # the round's own look finds the batch pending
    run_due_work()  # the burst's first phase (the reads) is submitted; the emulator runs it, then the members phase
    lost = MailchimpBatch.objects.get(origin=BatchOrigin.BURST)
    emulator.batch_delay = 0
    members_written_by_batches(burst_settings.shop_id, emulator, api_key, list_id, people)
    with emulator.lock:
        emulator.accounts[api_key].batches.clear()  # Mailchimp ran it, then forgot it
    emulator.batch_delay = 0.05
    withdrawn = people[:3]
    for person in withdrawn:
        person.marketing_permission = False
        person.save()
    bulk.check_batches(burst_settings.shop_id)
    assert MailchimpBatch.objects.get(pk=lost.pk).status == BatchStatus.LOST

    emulator.clear_requests()
    if not submitted_at_once:
        emulator.faults.fail("*/batches", status=503, method="POST", times=1)
    run_due_work()
    finish_batches(burst_settings)

    again = MailchimpBatch.objects.filter(origin=BatchOrigin.BURST).exclude(pk=lost.pk)
    assert [(batch.rows, batch.status) for batch in again] == [(len(people), BatchStatus.DONE)], \
        "the lost batch's rows went in one new batch"
    assert not member_writes(emulator), "no row of the lost batch went one by one"
    for person in people:
        member = emulator.get_member(api_key, list_id, person.email)
        assert member["status"] == ("unsubscribed" if person in withdrawn else "subscribed"), person.email
        row = row_of(person)
        assert (row.status, row.opt_in, row.claimed_by) == (SyncStatus.SYNCED, person not in withdrawn, "")


@pytest.mark.parametrize("before", ["transactional", "unsubscribed"])
def test_consent_given_to_a_member_that_existed_ends_the_same_one_by_one_and_in_a_batch(
        burst_settings, mailchimp_account, before):
    """"A member existed in Mailchimp without the shop's consent" is one rule (``kinds.contact
    .existed_without_consent``): one by one the consent is sent as a change at once; in a batch the row learns the
    member's status and its next send carries the change. The member ends with the same status either way."""
    emulator, api_key, list_id = mailchimp_account
    emails = ["existed.%s.%d@fastmail.com" % (before, number) for number in range(THRESHOLD + 1)]
    emulator.add_members(api_key, list_id, emails, status=before)
    alone = new_person(email=emails[0])  # consent given as the contact is created
    drain()  # one contact due: no burst, one by one
    assert len(member_writes(emulator, alone.email)) >= 2, "the first write only carried status_if_new"
    expected = emulator.get_member(api_key, list_id, alone.email)["status"]
    assert expected == ("subscribed" if before == "transactional" else "pending")

    crowd = [new_person(email=email) for email in emails[1:]]
    emulator.clear_requests()
    run_due_work()
    finish_batches(burst_settings)
    assert batch_posts(emulator) and not member_writes(emulator), "the first writes went in batches"
    assert {row_of(person).member_status for person in crowd} == {before}, "the rows learnt the member's status"
    make_all_due()
    drain()  # their next plans: the consent as a change
    for person in [alone] + crowd:
        assert emulator.get_member(api_key, list_id, person.email)["status"] == expected
        row = row_of(person)
        assert row.member_status == expected and row.consent_request == "" and row.status == SyncStatus.SYNCED


def test_an_address_typed_into_the_block_that_mailchimp_holds_is_confirmed_one_by_one_even_in_a_burst(
        burst_settings, mailchimp_account):
    """The newsletter block for addresses the shop has no contact of but Mailchimp holds as guest buyers
    (``transactional``): whoever typed them is not shown to own them, so each owner is asked to confirm (pending),
    under single opt-in. Such a send reads the member first: a burst of them goes one by one, never in a batch."""
    from shoop_mailchimp.storefront.subscriptions import subscribe_address

    emulator, api_key, list_id = mailchimp_account
    assert not burst_settings.double_opt_in
    emails = ["typed.buyer.%d@fastmail.com" % number for number in range(THRESHOLD + 1)]
    emulator.add_members(api_key, list_id, emails, status="transactional")
    subscribe_address(burst_settings.shop, emails[0])
    drain()  # one contact due: one by one
    assert emulator.get_member(api_key, list_id, emails[0])["status"] == "pending"

    for email in emails[1:]:
        subscribe_address(burst_settings.shop, email)
    emulator.clear_requests()
    run_due_work()
    finish_batches(burst_settings)
    assert not batch_posts(emulator) and member_writes(emulator), "a burst of signups went one by one"
    make_all_due()
    drain()
    for email in emails:
        assert emulator.get_member(api_key, list_id, email)["status"] == "pending", email
        row = row_of(Contact.objects.get(email=email))
        # A confirmation request until its owner confirms (third review of issue 19, finding 1).
        assert row.member_status == "pending" and row.consent_request == "confirm" and row.status == SyncStatus.SYNCED


@pytest.mark.usefixtures("commits")
def test_a_burst_of_newsletter_block_signups_goes_one_by_one_and_renames_nobody(burst_settings, mailchimp_account):
    """Consents typed into the newsletter block (new contacts, ``signup``) first read their member: a burst of
    them goes one by one, never in a batch, and a member Mailchimp held keeps its names."""
    from shoop_mailchimp.storefront.subscriptions import subscribe_address
    emulator, api_key, list_id = mailchimp_account
    emails = ["signup%d@fastmail.com" % number for number in range(THRESHOLD + 1)]
    emulator.add_members(api_key, list_id, emails[:2], status="subscribed",
                         merge_fields={"FNAME": "Kept", "LNAME": "Name"})
    for email in emails:
        subscribe_address(burst_settings.shop, email, first_name="Typed", last_name="Stranger")

    run_due_work()
    drain()

    assert not MailchimpBatch.objects.exists() and not batch_posts(emulator)
    for email in emails:
        member = emulator.get_member(api_key, list_id, email)
        assert member["status"] == "subscribed"
        assert member["merge_fields"]["FNAME"] == ("Kept" if email in emails[:2] else "Typed"), email
