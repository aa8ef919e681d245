import json

import pytest
from django.core.management import call_command
from shuup.core.models import PersonContact

from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.models import (
    BatchStatus,
    MailchimpBatch,
    MailchimpConfiguration,
    MailchimpLogEntry,
    SyncKind,
    SyncState,
    SyncStatus,
)
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.kinds.contact import lost_consent
from shoop_mailchimp.sync.rounds import run_due_work
from shoop_mailchimp.sync.state import claim
from tests.bulk.conftest import members_sent_per_hash
from tests.helpers import batch_posts, operation_kind, wait_for_batches

pytestmark = pytest.mark.django_db  # no test here needs a commit (worker mode, explicit drains)


def state_or_none(contact):
    row = SyncState.objects.filter(kind="contact", object_id=contact.pk).first()
    return row.status if row else None


def state(contact):
    return SyncState.objects.get(kind="contact", object_id=contact.pk)


def test_every_existing_contact_reaches_mailchimp_exactly_once(configuration, mailchimp_account, make_existing):
    emulator, api_key, list_id = mailchimp_account
    people = make_existing(10)
    everyone = list(bulk.unqueued_ids(configuration.shop, "contact"))
    assert {p.pk for p in people} <= set(everyone)
    emulator.clear_requests()

    report = bulk.sync_existing(configuration.shop_id, poll_interval=0.05, timeout=30)

    assert report["contact synced"] == len(everyone)
    # Chunks of BATCH_SIZE=4, each in three phases: the members of addresses nobody proved read (each is a first
    # send), the members, then their customers (Mailchimp does not run a batch's operations in order: a member
    # written before its read would be found, and a customer written first would create the member).
    posts = batch_posts(emulator)
    assert len(posts) == 3 * -(-len(everyone) // 4)
    # A member read's 404 is its answer (none there), not a sign of the audience or store gone: not checked.
    checks = [r["path"] for r in emulator.requests if r["method"] == "GET" and r["path"].rstrip("/").endswith(
        ("/lists/%s" % list_id, "/ecommerce/stores/%s" % configuration.store_id))]
    assert not checks, checks
    for post in posts:
        steps = {operation_kind(operation) for operation in post["body"]["operations"]}
        assert steps in ({"reads"}, {"members"}, {"customers"}), "a phase is one kind of operation"
        operation = post["body"]["operations"][0]
        if operation["method"] == "PUT":
            assert isinstance(operation["body"], str) and json.loads(operation["body"])["email_address"]
    puts = members_sent_per_hash(emulator)
    for person in people:
        assert puts[subscriber_hash(person.email)] == 1
        member = emulator.get_member(api_key, list_id, person.email)
        assert member["status"] == "subscribed"
        assert emulator.get_customer(api_key, configuration.store_id, str(person.pk))["email_address"] == person.email
        row = state(person)
        assert row.status == SyncStatus.SYNCED and row.member_status == "subscribed"
        assert row.email == person.email and row.opt_in is True and row.fingerprint and not row.claimed_by
    assert all(b.status == BatchStatus.DONE for b in MailchimpBatch.objects.all())
    # Nothing left for the incremental worker, and a second bulk run has nothing to do.
    assert not [outcome for outcome in drain() if outcome.startswith("contact")]
    emulator.clear_requests()
    assert not bulk.sync_existing(configuration.shop_id, poll_interval=0.05)
    assert not members_sent_per_hash(emulator)


def test_rows_in_a_batch_are_not_sent_by_the_incremental_worker(configuration, mailchimp_account, make_existing):
    emulator, api_key, list_id = mailchimp_account
    emulator.batch_delay = 60  # held until the test lets it go
    people = make_existing(3)
    bulk.start(configuration.shop_id)
    assert state(people[0]).status == SyncStatus.SENDING
    # A change while the batch runs: the worker still keeps its hands off...
    people[0].first_name = "Renamed"
    people[0].save()
    assert not [outcome for outcome in drain() if outcome.startswith("contact")]
    emulator.batch_delay = 0
    bulk.resume_batches(configuration.shop_id, poll_interval=0.05, timeout=30)
    # ...and sends the newer state once the batch closed the row.
    assert state(people[0]).status == SyncStatus.PENDING
    assert drain()["contact synced"] == 1
    assert emulator.get_member(api_key, list_id, people[0].email)["merge_fields"]["FNAME"] == "Renamed"
    assert members_sent_per_hash(emulator)[subscriber_hash(people[1].email)] == 1


def test_a_rejected_contact_fails_with_mailchimps_detail_and_the_others_sync(
    configuration, mailchimp_account, make_existing
):
    emulator, api_key, list_id = mailchimp_account
    people = make_existing(5)
    emulator.faults.fail_email(people[2].email, detail="%s looks fake" % people[2].email)
    bulk.sync_existing(configuration.shop_id, poll_interval=0.05, timeout=30)
    failed = state(people[2])
    assert failed.status == SyncStatus.FAILED
    assert "looks fake" in failed.last_error
    assert failed.last_error_data["status"] == 400
    assert failed.last_error_data["operation_id"] == "c:%d:member" % failed.id
    for person in people[:2] + people[3:]:
        assert state(person).status == SyncStatus.SYNCED
    refused = MailchimpLogEntry.objects.get(action="contact.sync", contact_id=people[2].pk)
    assert "looks fake" in refused.message and refused.kind == "error"


def test_transient_failures_go_back_to_the_queue(configuration, mailchimp_account, make_existing):
    emulator, api_key, list_id = mailchimp_account
    people = make_existing(2)
    emulator.faults.fail_email(people[0].email, status=503, title="Service Unavailable")
    bulk.sync_existing(configuration.shop_id, poll_interval=0.05, timeout=30)
    row = state(people[0])
    assert row.status == SyncStatus.PENDING and row.attempts == 1 and not row.claimed_by
    assert state(people[1]).status == SyncStatus.SYNCED


def test_a_crash_before_polling_resumes_without_sending_twice(configuration, mailchimp_account, make_existing):
    emulator, api_key, list_id = mailchimp_account
    emulator.batch_delay = 60  # held until the test lets it go
    people = make_existing(6)
    # Submit, then "crash": the process ends before looking at any result.
    rows, batch_count = bulk.start(configuration.shop_id)
    assert batch_count >= 2
    assert MailchimpBatch.objects.filter(status=BatchStatus.SUBMITTED).count() == batch_count
    # A batch recorded but never submitted (the crash came earlier for it).
    extra = make_existing(1)
    bulk.record_existing(configuration.shop_id, SyncKind.CONTACT)
    assert MailchimpBatch.objects.filter(status=BatchStatus.PREPARING).count() == 1

    emulator.batch_delay = 0
    assert bulk.resume_batches(configuration.shop_id, poll_interval=0.05, timeout=30) == 0
    puts = members_sent_per_hash(emulator)
    for person in people + extra:
        assert state(person).status == SyncStatus.SYNCED
        assert puts[subscriber_hash(person.email)] == 1


def test_a_batch_mailchimp_forgot_goes_back_to_the_queue(configuration, mailchimp_account, make_existing):
    emulator, api_key, list_id = mailchimp_account
    emulator.batch_delay = 1
    people = make_existing(2)
    bulk.start(configuration.shop_id)
    batch = MailchimpBatch.objects.get()
    emulator.reset()  # Mailchimp's side is gone
    emulator.add_account(api_key)
    emulator.add_list(api_key, list_id=list_id)
    bulk.check_batches(configuration.shop_id)
    assert MailchimpBatch.objects.get(pk=batch.pk).status == BatchStatus.LOST
    # Due again now, and taken as a lost attempt's (the batch may have run): see test_consent_integrity.py.
    claimed = {row.object_id: row for row in claim(shop_id=configuration.shop_id, limit=10, kind="contact")}
    assert all(claimed[p.pk].recovered for p in people)


def test_a_forgotten_batch_leaves_what_its_rows_carried_noted(configuration, mailchimp_account, make_existing):
    """Before a batch goes out, each of its rows notes whether its send carries the contact's consent
    (``SyncState.consent_unanswered``): should the batch be lost, the retry knows which members it may have subscribed
    (``lost_consent``: counted when the contact moves away or is erased). A batch that finishes clears the note;
    a contact without consent is never noted."""
    emulator, api_key, list_id = mailchimp_account
    emulator.batch_delay = 1
    consenting, unconsenting = make_existing(2, permission=True), make_existing(2, permission=False)
    bulk.start(configuration.shop_id)
    assert [state(p).consent_unanswered for p in consenting + unconsenting] == ["subscribed", "subscribed", "", ""]
    assert [state(p).move_sent_to for p in consenting + unconsenting] == [p.email for p in consenting + unconsenting]
    emulator.reset()  # Mailchimp's side is gone
    emulator.add_account(api_key)
    emulator.add_list(api_key, list_id=list_id)
    bulk.check_batches(configuration.shop_id)
    claimed = {row.object_id: row for row in claim(shop_id=configuration.shop_id, limit=10, kind="contact")}
    assert [lost_consent(claimed[p.pk]) for p in consenting + unconsenting] == [True, True, False, False]


def test_a_finished_batch_clears_what_its_rows_noted(configuration, mailchimp_account, make_existing):
    emulator, api_key, list_id = mailchimp_account
    emulator.batch_delay = 1
    people = make_existing(2, permission=True)
    bulk.start(configuration.shop_id)
    assert [state(p).consent_unanswered for p in people] == ["subscribed", "subscribed"]
    emulator.batch_delay = 0
    assert bulk.resume_batches(configuration.shop_id, poll_interval=0.05, timeout=30) == 0
    assert [(state(p).status, state(p).consent_unanswered, state(p).move_sent_to) for p in people] == [
        (SyncStatus.SYNCED, "", "")] * 2


def test_bulk_never_resubscribes_an_unsubscribed_member(configuration, mailchimp_account, make_existing):
    emulator, api_key, list_id = mailchimp_account
    people = make_existing(3, permission=True)
    # They unsubscribed in Mailchimp long ago; the shop still says yes.
    bulk.sync_existing(configuration.shop_id, poll_interval=0.05, timeout=30)
    for person in people:
        emulator.set_member_status(api_key, list_id, person.email, "unsubscribed")
    SyncState.objects.filter(object_id__in=[p.pk for p in people]).delete()  # the shop forgets it ever sent
    bulk.sync_existing(configuration.shop_id, poll_interval=0.05, timeout=30)
    for person in people:
        assert emulator.get_member(api_key, list_id, person.email)["status"] == "unsubscribed"
        row = state(person)
        assert row.status == SyncStatus.SYNCED and row.member_status == "unsubscribed" and row.opt_in is False
        person.refresh_from_db()
        assert person.marketing_permission is False, "the shop learnt the unsubscribe, as one by one it would"
    # Nor does the next change sent incrementally.
    people[0].first_name = "Changed"
    people[0].save()
    drain()
    assert emulator.get_member(api_key, list_id, people[0].email)["status"] == "unsubscribed"


def test_without_consent_members_are_transactional(configuration, mailchimp_account, make_existing):
    emulator, api_key, list_id = mailchimp_account
    people = make_existing(2, permission=False)
    bulk.sync_existing(configuration.shop_id, poll_interval=0.05, timeout=30)
    for person in people:
        assert emulator.get_member(api_key, list_id, person.email)["status"] == "transactional"
        assert state(person).opt_in is False


def test_sync_existing_sends_the_first_sends_that_read_their_member_first_and_their_orders_in_the_same_call(
        configuration, mailchimp_account, make_existing):
    """A contact without consent, never sent, at an address nobody proved: its batch reads Mailchimp's member first
    (ContactPlan.first_unproven) and the row is due again. "Sync existing" sends it (and its order, which waited for
    its customer) in one more round of batches before it returns: nothing it recorded stays queued for the worker,
    and the member a subscriber of Mailchimp's own form holds keeps her names."""
    from shuup.testing.factories import create_product, create_random_order, get_default_supplier

    emulator, api_key, list_id = mailchimp_account
    held = "form.subscriber.bulk@fastmail.com"
    emulator.add_members(api_key, list_id, [held], status="subscribed",
                         merge_fields={"FNAME": "Margaret", "LNAME": "Hamilton"})
    people = make_existing(1, permission=False, emails=[held]) + make_existing(2, permission=False)
    product = create_product("read-first", shop=configuration.shop, supplier=get_default_supplier(), default_price=4)
    orders = [create_random_order(customer=person, products=[product], shop=configuration.shop,
                                  random_products=False) for person in people]
    SyncState.objects.filter(kind__in=["order", "product"]).delete()
    SyncState.objects.filter(kind="contact", object_id__in=[p.pk for p in people]).delete()
    report = bulk.sync_existing(configuration.shop_id, include_orders=True, poll_interval=0.05, timeout=60)
    assert not SyncState.objects.filter(status__in=[SyncStatus.PENDING, SyncStatus.SENDING]).exists(), list(
        SyncState.objects.exclude(status=SyncStatus.SYNCED).values_list("kind", "status", "last_error"))
    assert report["order synced"] == len(orders), report
    member = emulator.get_member(api_key, list_id, held)
    assert (member["status"], member["merge_fields"]["FNAME"]) == ("subscribed", "Margaret")
    assert state(people[0]).foreign_member and not state(people[1]).foreign_member
    for person in people[1:]:
        member = emulator.get_member(api_key, list_id, person.email)
        assert (member["status"], member["merge_fields"]["FNAME"]) == ("transactional", person.first_name)


def test_contacts_without_email_are_skipped(configuration, mailchimp_account, make_existing):
    people = make_existing(1, emails=[""])
    bulk.sync_existing(configuration.shop_id, poll_interval=0.05, timeout=30)
    assert state(people[0]).status == SyncStatus.SKIPPED


def test_inactive_configuration_refuses(configuration, make_existing):
    configuration.enabled = False
    configuration.save()
    with pytest.raises(bulk.BulkSyncError):
        bulk.start(configuration.shop_id)


def test_command_shows_progress(configuration, mailchimp_account, make_existing):
    from io import StringIO

    emulator, api_key, list_id = mailchimp_account
    make_existing(5)
    out = StringIO()
    call_command("mailchimp_sync", "--existing", "--shop", str(configuration.shop_id), "--poll-interval", "0.05",
                 stdout=out)
    text = out.getvalue()
    assert "Recorded 4 contacts for a batch" in text
    assert "Submitted batch" in text and "finished" in text
    assert "contact synced: %d" % PersonContact.objects.count() in text


def test_admin_button_syncs_existing_contacts_in_batches(admin_client, configuration, mailchimp_account, make_existing):
    from django.urls import reverse

    emulator, api_key, list_id = mailchimp_account
    people = make_existing(5)
    total = len(list(bulk.unqueued_ids(configuration.shop_id, "contact")))
    emulator.clear_requests()
    response = admin_client.post(reverse("shuup_admin:shoop_mailchimp.sync_existing"), follow=True)
    assert "The sync of existing contacts is queued" in response.content.decode()
    assert emulator.requests == [], "the admin's request only queues the job"
    for _round in range(20):
        run_due_work()  # the worker's rounds
        if all(state_or_none(person) == SyncStatus.SYNCED for person in people):
            break
        wait_for_batches(emulator, api_key)  # Mailchimp ran what the round submitted
    assert all(state_or_none(person) == SyncStatus.SYNCED for person in people)
    hashes = {subscriber_hash(person.email) for person in people}
    assert batch_posts(emulator)
    assert not [r for r in emulator.requests if r["method"] == "PUT" and r["path"].rsplit("/", 1)[-1] in hashes]
    html = admin_client.get(reverse("shuup_admin:shoop_mailchimp.status")).content.decode()
    assert "%d items queued for Mailchimp in %d batches" % (total, -(-total // 4)) in html
    assert "mailchimp-batches" in html


def test_status_page_reads_results_of_open_batches(admin_client, configuration, mailchimp_account, make_existing,
                                                   settings):
    from django.urls import reverse

    emulator, api_key, list_id = mailchimp_account
    emulator.batch_delay = 60  # held until the test lets it go
    people = make_existing(2)
    admin_client.post(reverse("shuup_admin:shoop_mailchimp.sync_existing"))
    run_due_work()  # the worker runs the job: rows recorded and the batch submitted
    assert state(people[0]).status == SyncStatus.SENDING
    emulator.clear_requests()
    html = admin_client.get(reverse("shuup_admin:shoop_mailchimp.status")).content.decode()
    assert "1 open" in html
    assert emulator.requests == [], "the status page reads the database only"
    emulator.batch_delay = 0
    for _round in range(20):
        if state(people[0]).status != SyncStatus.SENDING:
            break
        wait_for_batches(emulator, api_key)
        run_due_work()  # the worker polls open batches
    assert state(people[0]).status == SyncStatus.SYNCED
    html = admin_client.get(reverse("shuup_admin:shoop_mailchimp.status")).content.decode()
    assert "1 batch finished" in html


def test_existing_orders_go_through_batches_too(configuration, mailchimp_account, make_existing):
    from shuup.testing.factories import create_product, create_random_order, get_default_supplier

    emulator, api_key, list_id = mailchimp_account
    customer = make_existing(1)[0]
    product = create_product("bulk-sku", shop=configuration.shop, supplier=get_default_supplier(), default_price=10)
    order = create_random_order(customer=customer, products=[product], shop=configuration.shop,
                                random_products=False)
    # Neither the order nor (since the order refreshed it) its customer has been sent yet.
    SyncState.objects.filter(kind="order").delete()
    SyncState.objects.filter(kind="contact", object_id=customer.pk).delete()
    report = bulk.sync_existing(configuration.shop_id, include_orders=True, poll_interval=0.05, timeout=30)
    assert report["order synced"] == 1, report
    assert SyncState.objects.get(kind="order", object_id=order.pk).status == SyncStatus.SYNCED
    assert [o["id"] for o in emulator.orders(api_key, configuration.store_id)] == [str(order.pk)]
    assert emulator.products(api_key, configuration.store_id)


@pytest.mark.parametrize("detail, status", [
    ("An order with the provided ID already exists in the account.", SyncStatus.PENDING),  # updated one by one
    # sent one by one: its campaign looked up, and left out
    ("A campaign with the provided ID does not exist in the account for this list.", SyncStatus.PENDING),
    ("The resource submitted could not be validated.", SyncStatus.FAILED),  # a refusal like any other
])
def test_an_order_refused_in_a_batch_is_retried_only_when_mailchimp_has_it_or_refused_its_campaign(
    configuration, mailchimp_account, make_existing, detail, status
):
    from shuup.testing.factories import create_product, create_random_order, get_default_supplier

    emulator, api_key, list_id = mailchimp_account
    customer = make_existing(1)[0]
    product = create_product("refused-sku", shop=configuration.shop, supplier=get_default_supplier(), default_price=3)
    order = create_random_order(customer=customer, products=[product], shop=configuration.shop, random_products=False)
    SyncState.objects.filter(kind="order").delete()
    SyncState.objects.filter(kind="contact", object_id=customer.pk).delete()  # both go through the batches
    emulator.faults.fail("/ecommerce/stores/*/orders", status=400, method="POST", detail=detail)
    bulk.sync_existing(configuration.shop_id, include_orders=True, poll_interval=0.05, timeout=30)
    row = SyncState.objects.get(kind="order", object_id=order.pk)
    assert row.status == status
    assert detail.split(".")[0] in row.last_error


def test_an_import_of_history_triggers_no_order_email_and_the_store_notifies_again_after(
    configuration, mailchimp_account, make_existing, monkeypatch
):
    """Mailchimp mails order confirmations, invoices and cancellations for orders it is sent (by a shop that lets
    it), unless the store is marked is_syncing: the bulk sync sets it for the import and clears it when done."""
    from shuup.testing.factories import create_product, create_random_order, get_default_supplier

    emulator, api_key, list_id = mailchimp_account
    configuration.send_order_notifications = True
    configuration.save()
    customer = make_existing(1)[0]
    product = create_product("history-sku", shop=configuration.shop, supplier=get_default_supplier(), default_price=5)
    old_orders = [create_random_order(customer=customer, products=[product], shop=configuration.shop,
                                      random_products=False) for _ in range(3)]
    SyncState.objects.filter(kind="order").delete()
    SyncState.objects.filter(kind="contact", object_id=customer.pk).delete()
    syncing_while_submitted = []
    real_submit = bulk.batches.submit

    def submit(session, operations):
        syncing_while_submitted.append(emulator.get_store(api_key, configuration.store_id)["is_syncing"])
        return real_submit(session, operations)

    monkeypatch.setattr(bulk.batches, "submit", submit)
    report = bulk.sync_existing(configuration.shop_id, include_orders=True, poll_interval=0.05, timeout=30)
    assert report["order synced"] == len(old_orders)
    assert syncing_while_submitted and all(syncing_while_submitted)
    assert emulator.notifications(api_key, configuration.store_id) == [], "no e-mail about years-old orders"
    assert emulator.get_store(api_key, configuration.store_id)["is_syncing"] is False
    assert not MailchimpConfiguration.objects.get(pk=configuration.pk).store_syncing
    # A new order afterwards is a live one: Mailchimp confirms it.
    create_random_order(customer=customer, products=[product], shop=configuration.shop, random_products=False)
    drain()
    assert [n["kind"] for n in emulator.notifications(api_key, configuration.store_id)]


@pytest.mark.parametrize("seed", [3, 17, 2024])
def test_any_order_mailchimp_runs_a_batch_in_leaves_every_order_and_member_right(
    configuration, mailchimp_account, make_existing, seed
):
    """Mailchimp promises no order inside a batch: an order run before its product is refused, a
    customer run before its member would decide the member's status. The phases (members, then
    customers; products, then orders) hold whatever order the emulator shuffles them into."""
    from shuup.testing.factories import create_product, create_random_order, get_default_supplier

    emulator, api_key, list_id = mailchimp_account
    emulator.set_batch_seed(seed)
    people = make_existing(3) + make_existing(2, permission=False)
    products = [create_product("seed-%d-%d" % (seed, n), shop=configuration.shop, supplier=get_default_supplier(),
                               default_price=4) for n in range(3)]
    orders = [create_random_order(customer=person, products=products, shop=configuration.shop, random_products=False)
              for person in people]
    SyncState.objects.filter(kind__in=["order", "product"]).delete()
    SyncState.objects.filter(kind="contact", object_id__in=[p.pk for p in people]).delete()
    report = bulk.sync_existing(configuration.shop_id, include_orders=True, poll_interval=0.05, timeout=30)
    assert report["order synced"] == len(orders), report
    assert {o["id"] for o in emulator.orders(api_key, configuration.store_id)} == {str(o.pk) for o in orders}
    for person in people:
        expected = "subscribed" if person.marketing_permission else "transactional"
        assert emulator.get_member(api_key, list_id, person.email)["status"] == expected
    assert len(batch_posts(emulator)) >= 4, "members, customers, products and orders in phases of their own"


def test_a_round_of_batch_checks_loads_what_a_batch_sent_one_batch_at_a_time(configuration, mailchimp_account,
                                                                             make_existing):
    """What a batch sent is a few hundred kilobytes: a 50,000-contact sync keeps 100 batches open, and a
    round that loaded all of them at once made the sync's memory grow with the shop."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    emulator, api_key, _list_id = mailchimp_account
    make_existing(12)
    bulk.start(configuration.shop_id)  # three chunks of four: submitted
    assert MailchimpBatch.objects.filter(status=BatchStatus.SUBMITTED).count() >= 3
    with CaptureQueriesContext(connection) as queries:
        while bulk.check_batches(configuration.shop_id):
            wait_for_batches(emulator, api_key)
    sent_column = '"shoop_mailchimp_mailchimpbatch"."sent"'
    loads = [query["sql"] for query in queries if query["sql"].startswith("SELECT") and sent_column in query["sql"]]
    assert loads, "the batches were read"
    assert all('"shoop_mailchimp_mailchimpbatch"."id" = ' in sql for sql in loads), loads[0]
    assert not SyncState.objects.exclude(status=SyncStatus.SYNCED).exists()


def test_the_progress_of_a_sync_never_goes_back_and_ends_at_a_hundred(configuration, mailchimp_account,
                                                                      make_existing):
    """Read after every step of a sync of three batches, two phases each: a batch moving on to its next
    phase, or finishing, keeps what it counted (a sum over open batches' operations fell to 0 there)."""
    make_existing(10)
    seen = []

    def progress(event, batch):
        seen.append(bulk.batch_progress(configuration.shop_id)["percent"])

    report = bulk.sync_existing(configuration.shop_id, progress=progress, poll_interval=0.05, timeout=30)
    assert report["contact synced"] >= 10
    readings = [percent for percent in seen if percent is not None]
    assert len(readings) >= 6 and readings == sorted(readings), seen
    assert any(0 < percent < 100 for percent in readings), seen
    assert bulk.batch_progress(configuration.shop_id)["percent"] is None  # nothing open: the page says done


def test_an_order_refused_in_a_batch_for_a_product_deleted_in_mailchimp_sends_the_product_again(
        configuration, mailchimp_account, make_existing):
    """A product deleted on Mailchimp's side while the shop holds it sent: the batch's order is refused ("A
    product with the provided ID does not exist"); the product is sent again as new, then the order."""
    import requests
    from shuup.testing.factories import create_product, create_random_order, get_default_supplier

    from tests.helpers import make_all_due

    emulator, api_key, list_id = mailchimp_account
    customer = make_existing(1)[0]
    product = create_product("gone-in-batch", shop=configuration.shop, supplier=get_default_supplier(),
                             default_price=4)
    drain()
    assert any(p["id"] == str(product.pk) for p in emulator.products(api_key, configuration.store_id))
    response = requests.delete("%secommerce/stores/%s/products/%s" % (emulator.base_url, configuration.store_id,
                                                                     product.pk), auth=("x", api_key), timeout=5)
    assert response.status_code == 204, response.text
    order = create_random_order(customer=customer, products=[product], shop=configuration.shop, random_products=False)
    SyncState.objects.filter(kind="order").delete()
    SyncState.objects.filter(kind="contact", object_id=customer.pk).delete()  # both go through the batches
    bulk.sync_existing(configuration.shop_id, include_orders=True, poll_interval=0.05, timeout=30)
    row = SyncState.objects.get(kind="order", object_id=order.pk)
    assert row.status == SyncStatus.PENDING and "does not exist" in row.last_error, row.last_error
    assert SyncState.objects.get(kind="product", object_id=product.pk).last_synced_at is None
    make_all_due()
    drain()
    assert SyncState.objects.get(kind="order", object_id=order.pk).status == SyncStatus.SYNCED
    assert [o["id"] for o in emulator.orders(api_key, configuration.store_id)] == [str(order.pk)]


def test_a_past_order_naming_a_deleted_campaign_reaches_mailchimp_after_a_bulk_sync(
        configuration, mailchimp_account, make_existing):
    """A shop importing its history: an order that once came from a campaign deleted since is refused in the batch
    (its campaign is sent unchecked there), then goes one by one without it, as the drainer sends every order
    (review of issue 18: the order stayed failed, and its revenue was lost for an optional field)."""
    from shuup.testing.factories import create_product, create_random_order, get_default_supplier

    from shoop_mailchimp.models import OrderAttribution
    from tests.helpers import make_all_due

    emulator, api_key, list_id = mailchimp_account
    customer = make_existing(1)[0]
    product = create_product("rev-bulk-sku", shop=configuration.shop, supplier=get_default_supplier(),
                             default_price=10)
    order = create_random_order(customer=customer, products=[product], shop=configuration.shop,
                                random_products=False)
    OrderAttribution.objects.create(order=order, campaign_id="abcdef0123", landing_site="https://x.example/")
    SyncState.objects.filter(kind="order").delete()
    SyncState.objects.filter(kind="contact", object_id=customer.pk).delete()
    bulk.sync_existing(configuration.shop_id, include_orders=True, poll_interval=0.05, timeout=30)
    for _ in range(3):
        make_all_due()
        run_due_work()
    [sent] = emulator.orders(api_key, configuration.store_id)
    assert sent["id"] == str(order.pk) and not sent.get("campaign_id")
    assert sent["landing_site"] == "https://x.example/"


def test_an_audience_deleted_while_the_reads_are_out_pauses_the_shop_at_the_members_phase(
        configuration, mailchimp_account, make_existing):
    """The reads phase's 404s are answers (no member there) and are not checked; the members phase's 404s are,
    and the shop pauses instead of failing every row."""
    emulator, api_key, list_id = mailchimp_account
    people = make_existing(3)
    emulator.batch_delay = 60
    bulk.start(configuration.shop_id)
    wait_for_batches(emulator, api_key, status="pending")
    emulator.delete_list(api_key, list_id)
    emulator.batch_delay = 0
    bulk.resume_batches(configuration.shop_id, poll_interval=0.05, timeout=5)
    assert "The audience %s no longer exists" % list_id in MailchimpConfiguration.objects.get(
        pk=configuration.pk).paused_reason
    assert not any(state(person).status == SyncStatus.FAILED for person in people)
